"""What every domain uses: database sessions, errors, translation, formatting, roles and
permissions, the year lock, checked text, upload limits and files, spreadsheet and PDF writers."""
