"""Merging duplicate customer records (SPEC W-10, issue #23 item 4).

`compare(merchant, a, b)` shows side by side what each record holds and which values conflict;
`merge(merchant, survivor, merged, login_from, admin)` moves everything to the survivor in the
caller's transaction (flushed here, committed by the request): money records, orders, carts,
saved methods, Primary Email addresses (united), account credit (summed), custom field values
(the survivor's value wins where both have one). The survivor keeps one login, the admin's
choice; the merged record's sessions end and its emailed links die. The merged record is kept,
archived, with `merged_into_id`, and an audit entry says who merged what and when.

`MOVES` declares every foreign key to `customer.id` and how its rows move: a new table with
such a key is one line here (tests/test_customer_merge.py fails until it has one).
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, delete, func, select, update

from ..core import events
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..tenancy import audit
from . import portal_sessions
from .credentials import revoke_open_links
from .fields import list_definitions
from .models import Customer, CustomerEmail

# The details a merge fills on the survivor when it has none, in groups kept whole: an address
# is taken entire or not at all, never a street from one record and a city from the other.
DETAIL_GROUPS = (
    ("Name", ("first_name", "last_name")),
    ("Company", ("company",)),
    ("Phone", ("phone",)),
    ("Address", ("address_line1", "address_line2", "city", "region", "postal_code",
                 "country")),
)
# What makes a portal login: moved whole to the survivor or cleared on the merged record.
LOGIN_COLUMNS = ("username", "password_hash", "failed_logins", "locked_at",
                 "temp_password_state", "temp_expires_at")


@dataclass
class Merge:
    """One merge under way: what the handlers read and what they report."""
    merchant: object
    survivor: Customer
    merged: Customer
    login_from: Customer
    report: dict = field(default_factory=dict)

    @property
    def login_changes(self) -> bool:
        """The survivor takes the merged record's login: its own sessions and links end too."""
        return self.login_from.id == self.merged.id


Handler = Callable[[Merge, Table, Column], int]


def reassign(m: Merge, table: Table, column: Column) -> int:
    """The default: the merged record's rows now name the survivor."""
    stmt = update(table).where(column == m.merged.id).values({column.name: m.survivor.id})
    if "merchant_id" in table.c:
        stmt = stmt.where(table.c.merchant_id == m.merchant.id)
    return db.session.execute(stmt).rowcount


def unite_emails(m: Merge, table: Table, column: Column) -> int:
    """Primary Email addresses united: the survivor's first, then the merged record's others;
    an address both hold is kept once (unique per customer)."""
    have = set(db.session.scalars(select(CustomerEmail.address).where(
        CustomerEmail.customer_id == m.survivor.id)))
    start = db.session.scalar(select(func.coalesce(func.max(CustomerEmail.position), -1))
                              .where(CustomerEmail.customer_id == m.survivor.id)) + 1
    rows = db.session.execute(select(CustomerEmail.id, CustomerEmail.address).where(
        CustomerEmail.customer_id == m.merged.id).order_by(CustomerEmail.position)).all()
    added = [(row_id, address) for row_id, address in rows if address not in have]
    db.session.execute(delete(CustomerEmail).where(
        CustomerEmail.customer_id == m.merged.id,
        CustomerEmail.id.not_in([row_id for row_id, _ in added])))
    for offset, (row_id, _address) in enumerate(added):
        db.session.execute(update(CustomerEmail).where(CustomerEmail.id == row_id)
                           .values(customer_id=m.survivor.id, position=start + offset))
    m.report["emails_added"] = [address for _, address in added]
    return len(added)


def move_methods(m: Merge, table: Table, column: Column) -> int:
    """Saved payment methods move, one per token, keeping the survivor's default. A method is
    kept at the gateway under its gateway customer: when both records have a different one at
    Stripe, the merged record's methods cannot be charged for the survivor and stay behind
    (the customer saves them again)."""
    if _stripe_refs_differ(m):
        m.report["methods_left"] = db.session.scalar(
            select(func.count()).where(column == m.merged.id)) or 0
        return 0
    if m.merged.gateway_customer_ref and not m.survivor.gateway_customer_ref:
        m.survivor.gateway_customer_ref = m.merged.gateway_customer_ref
    survivor_tokens = select(table.c.token).where(column == m.survivor.id).scalar_subquery()
    db.session.execute(delete(table).where(column == m.merged.id,
                                           table.c.token.in_(survivor_tokens)))
    has_default = db.session.scalar(select(func.count()).where(
        column == m.survivor.id, table.c.is_default.is_(True)))
    if has_default:
        db.session.execute(update(table).where(column == m.merged.id).values(is_default=False))
    return reassign(m, table, column)


def kill_links(m: Merge, table: Table, column: Column) -> int:
    """Emailed create, reset and invitation links of the merged record die (they stay with it,
    used); the survivor's too when its login is replaced."""
    revoke_open_links(m.merged)
    if m.login_changes:
        revoke_open_links(m.survivor)
    return 0


def cancel_sign_in_tokens(m: Merge, table: Table, column: Column) -> int:
    """The merged record's unused single sign-on tokens are cancelled: they would sign in a
    record that is merged away. (The survivor's stay: its merchant issued them for it.)"""
    from .models import SignInToken

    return db.session.execute(
        update(SignInToken).where(SignInToken.customer_id == m.merged.id,
                                  SignInToken.used_at.is_(None),
                                  SignInToken.cancelled_at.is_(None))
        .values(cancelled_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def end_sessions(m: Merge, table: Table, column: Column) -> int:
    """The merged record's portal sessions end on the server (its browser is signed out); the
    survivor's too when its login is replaced."""
    portal_sessions.end_all(m.merged)
    if m.login_changes:
        portal_sessions.end_all(m.survivor)
    return 0


@dataclass(frozen=True)
class Move:
    """How the rows of one foreign key to `customer.id` follow a merge, and what the compare
    page calls them (None: shown otherwise, or not at all). `open_column`: only rows with it
    NULL are counted (a used link, an ended session is history)."""
    label: str | None
    handler: Handler = reassign
    open_column: str | None = None


# Every foreign key to customer.id ("table.column"), and how its rows move on a merge.
MOVES: dict[str, Move] = {
    "invoice.customer_id": Move("Invoices"),
    "payment.customer_id": Move("Payments"),
    "refund.customer_id": Move("Refunds"),
    "credit_note.customer_id": Move("Credit notes"),
    "sales_order.customer_id": Move("Orders"),
    "cart.customer_id": Move("Carts"),
    "proposal.customer_id": Move("Proposals"),
    "service_issue.customer_id": Move("Service issues"),
    "payment_method.customer_id": Move("Saved payment methods", move_methods),
    "customer_email.customer_id": Move(None, unite_emails),  # shown as the addresses
    "credential_token.customer_id": Move("Open emailed links", kill_links, "used_at"),
    "portal_session.customer_id": Move("Portal sessions", end_sessions, "revoked_at"),
    # single sign-on tokens (#25): ended with the sessions (a merged record signs in no more)
    "sign_in_token.customer_id": Move("Open sign-in tokens", cancel_sign_in_tokens, "used_at"),
    # records merged into the merged one earlier now point at the final survivor
    "customer.merged_into_id": Move(None),
}


def _columns(key: str) -> tuple[Table, Column]:
    table_name, _, column_name = key.partition(".")
    table = db.metadata.tables[table_name]
    return table, table.c[column_name]


def customer_foreign_keys() -> set[str]:
    """Every "table.column" of the schema that is a foreign key to customer.id."""
    return {f"{table.name}.{fk.parent.name}" for table in db.metadata.tables.values()
            for fk in table.foreign_keys
            if fk.column.table.name == "customer" and fk.column.name == "id"}


# --- compare ----------------------------------------------------------------------------------
@dataclass
class Side:
    customer: Customer
    counts: dict[str, int]
    emails: list[str]


@dataclass
class Row:
    label: str
    a: str
    b: str

    @property
    def conflict(self) -> bool:
        """Both hold a value and they differ: the survivor's is kept."""
        return bool(self.a and self.b and self.a != self.b)


@dataclass
class Comparison:
    a: Side
    b: Side
    rows: list[Row]
    stripe_apart: bool = False  # each has its own Stripe customer: saved cards stay behind

    @property
    def conflicts(self) -> list[Row]:
        return [row for row in self.rows if row.conflict]

    @property
    def likely_survivor(self) -> Customer:
        """The record to keep unless the admin says otherwise: the one with a portal login,
        else the one holding more, else the older (the duplicate is usually the newer, thinner
        record, whichever of the two the admin started from)."""
        def weight(side: Side):
            return (bool(side.customer.username), sum(side.counts.values()),
                    -side.customer.id)
        return max((self.a, self.b), key=weight).customer


def _counts(ids: tuple[int, int]) -> dict[int, dict[str, int]]:
    """{customer id: {label: rows}}: one grouped query per declared table."""
    counts = {i: {} for i in ids}
    for key, move in MOVES.items():
        if move.label is None:
            continue
        table, column = _columns(key)
        stmt = select(column, func.count()).where(column.in_(ids)).group_by(column)
        if move.open_column:
            stmt = stmt.where(table.c[move.open_column].is_(None))
        found = dict(db.session.execute(stmt).all())
        for i in ids:
            counts[i][move.label] = found.get(i, 0)
    return counts


def _shown(value) -> str:
    if value is None or value == "":
        return ""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)


def compare(merchant, a: Customer, b: Customer) -> Comparison:
    """What each record holds, side by side, and where their values differ."""
    _check_pair(merchant, a, b)
    counts = _counts((a.id, b.id))
    rows = [Row(label, " ".join(filter(None, (_shown(getattr(a, n)) for n in names))),
                " ".join(filter(None, (_shown(getattr(b, n)) for n in names))))
            for label, names in DETAIL_GROUPS]
    for definition in list_definitions(merchant):
        key = str(definition.id)
        rows.append(Row(definition.name, _shown((a.custom_fields or {}).get(key)),
                        _shown((b.custom_fields or {}).get(key))))
    return Comparison(Side(a, counts[a.id], a.primary_emails),
                      Side(b, counts[b.id], b.primary_emails), rows,
                      _stripe_refs_differ(Merge(merchant, a, b, a)))


# --- merge ------------------------------------------------------------------------------------
def _check_pair(merchant, a: Customer, b: Customer) -> None:
    if a is None or b is None or a.merchant_id != merchant.id or b.merchant_id != merchant.id:
        raise DomainError("No such customer.", code="not_found", status=404)
    if a.id == b.id:
        raise DomainError("A customer cannot be merged into itself.", code="same_customer")
    for customer in (a, b):
        if customer.merged_into_id is not None:
            raise DomainError(f"“{customer.display_name}” is already merged into another "
                              "customer.", code="already_merged", status=409)


def _lock(m: Merge) -> None:
    """Claim both rows, in id order (two admins merging the pair both ways cannot deadlock):
    a record merged meanwhile is refused, and the values read next are current."""
    for customer in sorted((m.survivor, m.merged), key=lambda c: c.id):
        done = db.session.execute(update(Customer).where(
            Customer.id == customer.id, Customer.merchant_id == m.merchant.id,
            Customer.merged_into_id.is_(None)).values(updated_at=utcnow()))
        if done.rowcount != 1:
            raise DomainError(f"“{customer.display_name}” has just been merged into another "
                              "customer.", code="already_merged", status=409)
    db.session.refresh(m.survivor)
    db.session.refresh(m.merged)


def _stripe_refs_differ(m: Merge) -> bool:
    """Both records have their own customer at Stripe: methods kept under one cannot be
    charged for the other."""
    refs = (m.survivor.gateway_customer_ref or "", m.merged.gateway_customer_ref or "")
    return all(r.startswith("cus_") for r in refs) and refs[0] != refs[1]


def _refuse_money_in_flight(m: Merge) -> None:
    """A payment being charged is settled (and resolved) under its customer's gateway
    customer: the merge waits until it has settled. A scheduled payment on a method kept at
    Stripe under the merged record cannot be charged for the survivor: the admin cancels it,
    or keeps the other record."""
    payment = db.metadata.tables["payment"].c
    statuses = ("pending", "scheduled") if _stripe_refs_differ(m) else ("pending",)
    waiting = db.session.scalar(select(func.count()).where(
        payment.merchant_id == m.merchant.id, payment.customer_id == m.merged.id,
        payment.status.in_(statuses)))
    if waiting:
        raise DomainError(f"“{m.merged.display_name}” has a payment being processed or "
                          "scheduled on a card kept for that record: merge once it has "
                          "settled, cancel it, or keep that record as the survivor.",
                          code="payment_in_flight", status=409)


def _fill_details(m: Merge) -> None:
    """The survivor's values win; where it has none, the merged record's fill in."""
    survivor, merged = m.survivor, m.merged
    for _label, names in DETAIL_GROUPS:
        if not any(getattr(survivor, n) for n in names):
            for name in names:
                setattr(survivor, name, getattr(merged, name))
    values = dict(merged.custom_fields or {})
    values.update({k: v for k, v in (survivor.custom_fields or {}).items()
                   if v not in (None, "")})
    current = {str(d.id) for d in list_definitions(m.merchant)}
    survivor.custom_fields = {k: v for k, v in values.items() if k in current}
    survivor.sales_agent_id = survivor.sales_agent_id or merged.sales_agent_id
    survivor.language = survivor.language or merged.language
    m.report["credit_moved_minor"] = merged.credit_minor or 0
    if merged.credit_minor:  # summed in SQL: a payment settling meanwhile adds to it safely
        survivor.credit_minor = Customer.credit_minor + merged.credit_minor
        merged.credit_minor = 0


def _keep_one_login(m: Merge) -> None:
    """The survivor keeps one login: its own, or the merged record's; the other is removed."""
    taken = {name: getattr(m.merged, name) for name in LOGIN_COLUMNS}
    for name in LOGIN_COLUMNS:
        setattr(m.merged, name, 0 if name == "failed_logins" else None)
    db.session.flush()  # the username is free before the survivor takes it
    if m.login_changes:
        for name, value in taken.items():
            setattr(m.survivor, name, value)
    m.report["login"] = m.survivor.username


def merge(merchant, survivor: Customer, merged: Customer, login_from: Customer,
          admin) -> audit.AuditEntry:
    """Merge `merged` into `survivor` (same merchant) in the caller's transaction; the survivor
    keeps the login of `login_from` (one of the two). Returns the audit entry."""
    _check_pair(merchant, survivor, merged)
    if login_from is None or login_from.id not in (survivor.id, merged.id):
        raise DomainError("Choose whose login the surviving record keeps.", "login_from")
    m = Merge(merchant, survivor, merged, login_from)
    _lock(m)
    _refuse_money_in_flight(m)
    names = {"survivor_name": survivor.display_name, "merged_name": merged.display_name}
    _fill_details(m)
    _keep_one_login(m)
    moved = {}
    for key, move in MOVES.items():
        table, column = _columns(key)
        count = move.handler(m, table, column)
        if move.label and count:
            moved[move.label] = count
    merged.merged_into_id = survivor.id
    merged.archived_at = merged.archived_at or utcnow()
    db.session.flush()
    db.session.expire(survivor, ["emails", "credit_minor"])
    db.session.expire(merged, ["emails"])
    # for the merchant's systems (webhooks): the old id now lives on as the survivor
    events.record(merchant, "customer.merged", customer_id=survivor.id, merged_id=merged.id)
    return audit.record(merchant, admin, "customer.merged",
                        audit.subject_of("customer", survivor.id), survivor_id=survivor.id,
                        merged_id=merged.id, login_from_id=login_from.id, moved=moved,
                        **names, **m.report)


def survivor_of(merchant, customer_id: int) -> Customer | None:
    """The record a merged customer lives on in (its old URLs redirect there), or None."""
    return db.session.scalar(select(Customer).where(
        Customer.merchant_id == merchant.id, Customer.merged_into_id.is_(None),
        Customer.id == select(Customer.merged_into_id).where(
            Customer.merchant_id == merchant.id, Customer.id == customer_id)
        .scalar_subquery()))
