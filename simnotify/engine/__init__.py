"""The simulation engine: sockets, notification logic, network, calls, processes."""
