"""Lightning training: device-resident data, the Lightning modules, and a fit helper."""
