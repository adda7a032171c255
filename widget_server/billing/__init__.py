"""Billing: invoices with lines, payments, their claims and allocation to invoices, saved
methods, gateways. Products are the catalogue's."""
