// The child of the raw IPC echo: sends every message straight back.
process.on('message', (message) => process.send!(message))
