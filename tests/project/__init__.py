"""The project as shipped: the command line, settings, the operators' guide and the Dockerfile."""
