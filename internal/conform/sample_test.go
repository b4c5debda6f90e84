package conform

import "time"

// sample is a scenario table written by hand in the shape gen writes
// spec/mi.spec's: what the engine's tests play against mockNode and the
// fake agent, so that they do not change with the spec. Lines are made up
// (1000 and on).
var sample = []Scenario{
	{ID: "REG-OK", Target: "node", Class: "core", Title: "a user of the domain registers", Line: 1000, Steps: []Step{
		{Op: OpPlay, Role: "a1", Text: "agent", Line: 1001},
		{Op: OpSend, Role: "a1", Text: "PR$user1@$domain", Line: 1002},
		{Op: OpExpect, Role: "a1", Text: "RR0", Max: 500 * msec, Line: 1003},
	}},
	{ID: "REG-UNKNOWN", Target: "node", Class: "core", Title: "a user the node does not know is refused", Line: 1010, Steps: []Step{
		{Op: OpPlay, Role: "a1", Text: "agent", Line: 1011},
		{Op: OpSend, Role: "a1", Text: "PR$unknown@$domain", Line: 1012},
		{Op: OpExpect, Role: "a1", Text: "RR1", Max: 500 * msec, Line: 1013},
	}},
	{ID: "LOC-FOUND", Target: "node", Class: "core", Title: "a locate reaches the target's agent and its answer comes back", Line: 1020, Steps: []Step{
		{Op: OpPlay, Role: "a1", Text: "agent", Line: 1021},
		{Op: OpPlay, Role: "a2", Text: "agent", Line: 1022},
		{Op: OpSend, Role: "a1", Text: "PR$user1@$domain", Line: 1023},
		{Op: OpExpect, Role: "a1", Text: "RR0", Max: 500 * msec, Line: 1024},
		{Op: OpSend, Role: "a2", Text: "PR$user2@$domain", Line: 1025},
		{Op: OpExpect, Role: "a2", Text: "RR0", Max: 500 * msec, Line: 1026},
		{Op: OpSend, Role: "a1", Text: "PL$user1@$domain:$user2@$domain", Line: 1027},
		{Op: OpExpect, Role: "a2", Text: "PL$user1@$domain:$user2@$domain", Max: 500 * msec, Line: 1028},
		{Op: OpSend, Role: "a2", Text: "RL0$user1@$domain:$user2@$domain:127.0.0.1:4000", Line: 1029},
		{Op: OpExpect, Role: "a1", Text: "RL0$user1@$domain:$user2@$domain:{ip}:{port}", Max: 500 * msec, Line: 1030},
		{Op: OpSilent, Role: "a2", Max: 50 * msec, Line: 1031},
	}},
	{ID: "LOC-OFFLINE", Target: "node", Class: "core", Title: "a locate of a user who is not registered is answered offline", Line: 1040, Steps: []Step{
		{Op: OpPlay, Role: "a1", Text: "agent", Line: 1041},
		{Op: OpSend, Role: "a1", Text: "PL$user1@$domain:$user3@$domain", Line: 1042},
		{Op: OpExpect, Role: "a1", Text: "RL3$user1@$domain:$user3@$domain", Max: 500 * msec, Line: 1043},
	}},
	{ID: "LOC-REMOTE", Target: "node", Class: "core", Title: "a locate for another domain goes to its node and the answer comes back", Line: 1050, Steps: []Step{
		{Op: OpPlay, Role: "a1", Text: "agent", Line: 1051},
		{Op: OpPlay, Role: "r", Text: "node", Line: 1052},
		{Op: OpSend, Role: "a1", Text: "PR$user1@$domain", Line: 1053},
		{Op: OpExpect, Role: "a1", Text: "RR0", Max: 500 * msec, Line: 1054},
		{Op: OpSend, Role: "a1", Text: "PL$user1@$domain:$ruser@$remote_domain", Line: 1055},
		{Op: OpExpect, Role: "r", Text: "PL$user1@$domain:$ruser@$remote_domain", Max: time.Second, Line: 1056},
		{Op: OpSend, Role: "r", Text: "RL0$user1@$domain:$ruser@$remote_domain:10.0.0.9:4242", Line: 1057},
		{Op: OpExpect, Role: "a1", Text: "RL0$user1@$domain:$ruser@$remote_domain:10.0.0.9:4242", Max: 500 * msec, Line: 1058},
	}},
	{ID: "ROB-GARBAGE", Target: "node", Class: "robust", Title: "the node drops a datagram that does not decode and goes on serving", Line: 1060, Steps: []Step{
		{Op: OpPlay, Role: "a1", Text: "agent", Line: 1061},
		{Op: OpSend, Role: "a1", Text: "XX\x00\xff$user1", Raw: true, Line: 1062},
		{Op: OpSend, Role: "a1", Raw: true, Line: 1063},
		{Op: OpSilent, Role: "a1", Max: 100 * msec, Line: 1064},
		{Op: OpSend, Role: "a1", Text: "PR$user1@$domain", Line: 1065},
		{Op: OpExpect, Role: "a1", Text: "RR0", Max: 500 * msec, Line: 1066},
	}},
	{ID: "STR-DEREG-OTHER", Target: "node", Class: "strict", Title: "only the address a user registered from deregisters it", Line: 1070, Steps: []Step{
		{Op: OpPlay, Role: "a1", Text: "agent", Line: 1071},
		{Op: OpPlay, Role: "a2", Text: "agent", Line: 1072},
		{Op: OpSend, Role: "a1", Text: "PR$user1@$domain", Line: 1073},
		{Op: OpExpect, Role: "a1", Text: "RR0", Max: 500 * msec, Line: 1074},
		{Op: OpSend, Role: "a2", Text: "PD$user1@$domain", Line: 1075},
		{Op: OpExpect, Role: "a2", Text: "RD1", Max: 500 * msec, Line: 1076},
	}},

	{ID: "AG-REG", Target: "agent", Class: "core", Title: "the agent registers at start and stops once answered", Exec: true, Line: 1100, Steps: []Step{
		{Op: OpStart, Line: 1101},
		{Op: OpExpect, Role: "node", Text: "PR$addr", Max: 5 * time.Second, Line: 1102},
		{Op: OpSend, Role: "node", Text: "RR0", Line: 1103},
		{Op: OpSilent, Role: "node", Max: 400 * msec, Line: 1104},
	}},
	{ID: "AG-RETRY", Target: "agent", Class: "core", Title: "an unanswered registration is sent again", Exec: true, Line: 1110, Steps: []Step{
		{Op: OpStart, Line: 1111},
		{Op: OpExpect, Role: "node", Text: "PR$addr", Max: 5 * time.Second, Line: 1112},
		{Op: OpExpect, Role: "node", Text: "PR$addr", Min: fakeRetry - 100*msec, Max: fakeRetry + 200*msec, Line: 1113},
		{Op: OpSend, Role: "node", Text: "RR0", Line: 1114},
		{Op: OpSilent, Role: "node", Max: fakeRetry + 100*msec, Line: 1115},
	}},
	{ID: "AG-ACCEPT", Target: "agent", Class: "core", Title: "the agent answers a locate and accepts the chat", Line: 1120, Steps: []Step{
		{Op: OpSend, Role: "node", Text: "PL$caller:$addr", Line: 1121},
		{Op: OpExpect, Role: "node", Text: "RL0$caller:$addr:{chat_ip}:{chat_port}", Max: time.Second, Line: 1122},
		{Op: OpConnect, Role: "c", Text: "$chat_ip:$chat_port", Max: time.Second, Line: 1123},
		{Op: OpSilent, Role: "c", Max: 50 * msec, Line: 1124},
		{Op: OpWrite, Role: "c", Text: "N04peer", Line: 1125},
		{Op: OpRead, Role: "c", Text: "N{n1:2}{nick}", Max: time.Second, Line: 1126},
		{Op: OpWrite, Role: "c", Text: "L05hello", Bytewise: true, Line: 1127},
		{Op: OpClose, Role: "c", Line: 1128},
	}},
	{ID: "AG-BUSY", Target: "agent", Class: "core", Title: "in a conversation the agent answers a locate busy", Line: 1130, Steps: []Step{
		{Op: OpSend, Role: "node", Text: "PL$caller:$addr", Line: 1131},
		{Op: OpExpect, Role: "node", Text: "RL0$caller:$addr:{chat_ip}:{chat_port}", Max: time.Second, Line: 1132},
		{Op: OpConnect, Role: "c", Text: "$chat_ip:$chat_port", Max: time.Second, Line: 1133},
		{Op: OpWrite, Role: "c", Text: "N04peerL02hi", Line: 1134},
		{Op: OpRead, Role: "c", Text: "N{peer}", Max: time.Second, Line: 1135},
		{Op: OpSend, Role: "node", Text: "PL$caller2:$addr", Line: 1136},
		{Op: OpExpect, Role: "node", Text: "RL1$caller2:$addr", Max: time.Second, Line: 1137},
	}},
	{ID: "AG-LINES", Target: "agent", Class: "core", Title: "a line typed goes to the peer", Exec: true, Line: 1140, Steps: []Step{
		{Op: OpStart, Line: 1141},
		{Op: OpExpect, Role: "node", Text: "PR$addr", Max: 5 * time.Second, Line: 1142},
		{Op: OpSend, Role: "node", Text: "RR0", Line: 1143},
		{Op: OpSend, Role: "node", Text: "PL$caller:$addr", Line: 1144},
		{Op: OpExpect, Role: "node", Text: "RL0$caller:$addr:{chat_ip}:{chat_port}", Max: time.Second, Line: 1145},
		{Op: OpConnect, Role: "c", Text: "$chat_ip:$chat_port", Line: 1146},
		{Op: OpWrite, Role: "c", Text: "N04peer", Line: 1147},
		{Op: OpRead, Role: "c", Text: "N{peer}", Max: time.Second, Line: 1148},
		{Op: OpStdin, Text: "hi $caller", Line: 1149},
		{Op: OpRead, Role: "c", Text: "L{n:2}hi $caller", Max: time.Second, Line: 1150},
	}},
	{ID: "AG-GARBAGE", Target: "agent", Class: "robust", Title: "garbage on the chat socket ends that conversation", Line: 1160, Steps: []Step{
		{Op: OpSend, Role: "node", Text: "PL$caller:$addr", Line: 1161},
		{Op: OpExpect, Role: "node", Text: "RL0$caller:$addr:{chat_ip}:{chat_port}", Max: time.Second, Line: 1162},
		{Op: OpConnect, Role: "c", Text: "$chat_ip:$chat_port", Line: 1163},
		{Op: OpWrite, Role: "c", Text: "Zz$z\x00\xff", Raw: true, Line: 1164},
		{Op: OpClosed, Role: "c", Max: 2 * time.Second, Line: 1165},
		{Op: OpSend, Role: "node", Text: "PL$caller2:$addr", Line: 1166},
		{Op: OpExpect, Role: "node", Text: "RL0$caller2:$addr:{chat_ip}:{chat_port}", Max: time.Second, Line: 1167},
	}},
	{ID: "AG-QUIT", Target: "agent", Class: "core", Title: "at the end of its input the agent deregisters and exits", Exec: true, Line: 1170, Steps: []Step{
		{Op: OpStart, Line: 1171},
		{Op: OpExpect, Role: "node", Text: "PR$addr", Max: 5 * time.Second, Line: 1172},
		{Op: OpSend, Role: "node", Text: "RR0", Line: 1173},
		{Op: OpEOF, Line: 1174},
		{Op: OpExpect, Role: "node", Text: "PD$addr", Max: 2 * time.Second, Line: 1175},
		{Op: OpSend, Role: "node", Text: "RD0", Line: 1176},
		{Op: OpExits, Max: 3 * time.Second, Line: 1177},
	}},
}

const msec = time.Millisecond
