"""The catalogue: the products a merchant sells, which invoice lines, new invoices, orders and
(next) the cart draw on."""
