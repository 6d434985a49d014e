// Command noop does nothing: bench/cache.sh times it as the floor of what
// starting any Go binary costs on this machine.
package main

func main() {}
