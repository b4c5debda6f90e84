package supervise

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill the process when the thread that
// started it ends, as it does when the supervisor is killed: no server is
// left running after a test binary or lumictl bench dies.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
