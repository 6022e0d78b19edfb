"""Documents for people: the audit workbook (`reports.audit` builds it, `reports.files` writes it,
`reports.http` serves it) and the model's reference page, docs/model.md (`reports.modeldoc`)."""
