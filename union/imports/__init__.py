"""Importing a member register from a spreadsheet, in bulk.

reading turns an upload (CSV in UTF-8 or Latin-1, or XLSX) into rows of text; plan checks
every row against the file and the database and says what would happen, without writing;
writer applies a plan set-based (PostgreSQL COPY, bulk_create elsewhere); storage keeps an
upload, encrypted, between the preview and the confirmation. The services that tie them
together, with permissions, one transaction and the audit row, are in
union.services.imports.
"""
