"""Reports for people: the audit workbook (`reports.audit` builds it, `reports.files` writes it)."""
