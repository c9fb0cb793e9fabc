"""Invoice PDFs: the document value, the Factur-X XML, WeasyPrint rendering in a process pool,
and the stored PDFs of sent invoices."""
