"""Products, invoices with lines, payments and their allocation to invoices."""
