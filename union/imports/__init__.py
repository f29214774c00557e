"""Importing a member register from a spreadsheet, in bulk.

reading turns an upload (CSV in UTF-8 or Latin-1, or XLSX) into rows of text; plan reads
them into planned rows and says what would happen, without writing, once the rules in
checks have tested every row against the file and the database; writer applies a plan
set-based (PostgreSQL COPY, bulk_create elsewhere); storage keeps an upload, encrypted,
between the preview and the confirmation. The services that tie them together, with
permissions, one transaction and the audit row, are in union.services.imports.
"""
