// Package clusterfaults holds the fault tests of a Tributary cluster
// (issue 12's acceptances 1 and 2): three `tributary serve` processes
// forming one JetStream cluster, SIGKILLed and restarted under write
// load, and one of them cut off from the others by a network partition
// made with Linux network namespaces. They take minutes and need root,
// so they are not part of `make test`: their files need the
// clusterfaults build tag. Run them with
//
//	make faults-cluster
//
// (scripts/faults-cluster.sh); docs/reliability.md has what they check
// and the figures of the last runs.
package clusterfaults
