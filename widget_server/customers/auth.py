"""Customer sign-in by username or email + password (C-1), within one merchant."""
from sqlalchemy import func, select

from ..extensions import db
from ..passwords import verify
from .models import Customer, CustomerEmail

MAX_CANDIDATES = 5  # customers sharing one address (a bookkeeper for several accounts, say)


def candidates(merchant_id: int, login: str, *, with_password: bool = True,
               emails_only: bool = False) -> list[Customer]:
    """Customers of this merchant whose username or Primary Email address is `login`."""
    login = (login or "").strip().lower()
    if not login:
        return []
    matches = select(CustomerEmail.customer_id).where(CustomerEmail.merchant_id == merchant_id,
                                                      CustomerEmail.address == login)
    if not emails_only:
        matches = matches.union(select(Customer.id).where(
            Customer.merchant_id == merchant_id, func.lower(Customer.username) == login))
    stmt = select(Customer).where(Customer.merchant_id == merchant_id, Customer.id.in_(matches))
    if with_password:
        stmt = stmt.where(Customer.password_hash.is_not(None))
    return list(db.session.scalars(stmt.order_by(Customer.id).limit(MAX_CANDIDATES)))


def authenticate(merchant_id: int, login: str, password: str) -> Customer | None:
    """The customer these credentials belong to, or None. An unknown login costs the same time
    as a wrong password (a dummy hash is verified), so timing reveals nothing."""
    found = candidates(merchant_id, login)
    if not found:
        verify(None, password)
        return None
    for customer in found:
        ok, new_hash = verify(customer.password_hash, password)
        if ok:
            if new_hash:
                customer.password_hash = new_hash
                db.session.commit()
            return customer
    return None
