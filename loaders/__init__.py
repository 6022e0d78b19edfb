"""Files (Excel workbooks, CSV folders) and API edits turned into validated, batched graph writes.

A load, in the order it runs (docs/architecture.md draws it):
`load` (the entry: validate, then write or write nothing) → `read` (sheets and text cells) →
`plan` (drives validation a chunk at a time) → `rowstore` (rows from conversion to the writer: `cells` converts
one row, `columns` packs a chunk, `cellworker` converts in a second process) → `validate` (the rules across
rows, with `codeindex`) → `write` (`write_nodes`, `write_links`, `batches`, `written`) → `prune`.
Besides: `edits` (API edits through the same validation), `workbooks` (the template, the error workbook;
`guide` and `examples` give the template its notes and example rows, docs/import.md),
`demo` (the generated city), `problems` (what is wrong with an input, where and why), `spool`.
"""
