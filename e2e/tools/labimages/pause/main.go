// pause is the process that holds a pod's namespaces (what the kubelet's sandbox image runs): it
// does nothing until SIGINT or SIGTERM, then exits 0. As PID 1 of a pod that shares its process
// namespace it is also every orphan's parent, so it reaps them on SIGCHLD.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time (-X main.version=...).
var version = "dev"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		_, _ = os.Stdout.WriteString("pause " + version + "\n")
		return
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	// A child that ended before Notify was in place sent its SIGCHLD to nobody.
	reap()
	for s := range signals {
		if s == syscall.SIGCHLD {
			reap()
			continue
		}
		os.Exit(0)
	}
}

// reap collects every child that has exited; one SIGCHLD may stand for several of them.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
