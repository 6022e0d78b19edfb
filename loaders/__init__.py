"""Files (Excel workbooks, CSV folders) turned into validated, batched graph writes."""
