"""The go-live decision report: one document model, rendered as Markdown and as HTML with plots."""
