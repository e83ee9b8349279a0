"""The HTTP ingress: turns calls into commands on Kafka and waits for their results."""
