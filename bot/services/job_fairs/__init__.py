"""Job fairs (招聘会, 双选会, 校园招聘, 线上专场), one module per concern, imported in this order:
`model` (`JobFair`, kinds, audiences, the sample shift) → `query` (`FairQuery`, `FairPage`) →
`store` (`JobFairStore`: Redis, search) → `files` (staff CSV/XLSX, `load_sample_if_empty`);
`replies` (the chat text) needs only `model` and `query`. Run by the gateway (loads the sample),
the action server (searches), `bot.cli.job_fairs`."""
