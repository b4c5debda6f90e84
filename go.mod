module mi

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	github.com/miekg/dns v1.1.73
	pgregory.net/rapid v1.3.0
)

require (
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
