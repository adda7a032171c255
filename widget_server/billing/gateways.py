"""Payment gateways behind one interface. The sandbox is the embedded default: documented test
cards and bank accounts, no network, nothing kept. Card numbers and CVVs go to `tokenize_*`
and no further: only the token, brand, last four and expiry are ever stored (PCI).

The interface: `charge` a token once per idempotency key; `resolve` asks what became of an
attempt whose answer was lost (a timeout): with the same key the gateway either reports the
charge it made or makes it now, never a second one; `ensure_customer` gives the gateway's id
for a customer, so a method can be kept on file; `detach` forgets a method; `refund` sends
money back on a succeeded charge, once per idempotency key (#24).

`charge` and `resolve` never raise for a gateway's trouble: an unknown answer is "pending".
`GatewayUnavailable` is raised only where nothing was charged (no configuration, or a
preparatory call such as `ensure_customer` that could not be made), so callers can show it.
"""
from dataclasses import dataclass
from typing import Protocol

from ..core.domain import DomainError
from ..core.i18n import gettext
from .reasons import N_, NOT_SET_UP

# Test card numbers (any future expiry, any 3-digit CVC) and what they do.
TEST_CARDS = {
    "4242424242424242": "succeeded",
    "4000000000000002": "declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000119": "network_error",
}
# Test bank accounts (routing 110000000) for ACH.
TEST_ACCOUNTS = {"000123456789": "succeeded", "000111111116": "declined"}
MESSAGES = {
    "declined": N_("The card was declined. Please use another payment method."),
    "insufficient_funds": N_("The payment was declined for insufficient funds."),
    "network_error": N_("The payment provider could not be reached; the payment is pending."),
}


@dataclass(frozen=True)
class MethodToken:
    token: str  # what the gateway charges
    label: str  # "Visa •••• 4242", shown to the customer
    kind: str = "card"  # card | ach
    expires: str = ""  # "MM/YY" for cards


@dataclass(frozen=True)
class ChargeRequest:
    amount_minor: int
    currency: str
    token: str
    idempotency_key: str
    customer_ref: str = ""  # the gateway's customer, when the method is (to be) kept on file
    save: bool = False  # keep the method on file for later charges
    off_session: bool = False  # the customer is not present (scheduled payment, autopay)
    description: str = ""
    kind: str = "card"  # card | ach: which payment method type the gateway is to accept
    reference: str = ""  # the gateway's id of an earlier attempt, when known (for `resolve`)
    # The customer's browser, for an ACH debit mandate accepted online (Stripe asks for both).
    client_ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class ChargeResult:
    status: str  # succeeded | failed | pending
    reference: str = ""
    message: str = ""


@dataclass(frozen=True)
class RefundRequest:
    """Money back on a succeeded charge (#24): `reference` is the gateway's id of the charge
    (`payment.reference`), the key is the refund's own, so a retry refunds once."""
    amount_minor: int
    currency: str
    reference: str
    idempotency_key: str
    reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    status: str  # succeeded | failed | pending
    reference: str = ""
    message: str = ""


class Gateway(Protocol):
    name: str

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def resolve(self, request: ChargeRequest) -> ChargeResult: ...

    def ensure_customer(self, customer) -> str: ...

    def detach(self, token: str) -> None: ...

    def refund(self, request: RefundRequest) -> RefundResult: ...


class GatewayUnavailable(DomainError):
    """The merchant's gateway cannot be used now, and nothing was charged: payments are not set
    up (no connected account, no platform key) or the provider could not be reached for a call
    that comes before any charge. `reason` is a stored reason (`reasons.N_`), kept in English
    for a payment's record; `str(exc)` is it in the customer's language, to be shown."""

    def __init__(self, reason: str = NOT_SET_UP):
        super().__init__(gettext(reason), code="payments_unavailable", status=503)
        self.reason = reason


def _raise_all(errors: dict[str, str]) -> None:
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field, errors=errors)


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def tokenize_card(number: str, expiry: str, cvc: str, today) -> MethodToken:
    """Check a card's shape and turn it into a sandbox token; the number is not kept."""
    errors: dict[str, str] = {}
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    if not 12 <= len(digits) <= 19 or not _luhn(digits):
        errors["card_number"] = gettext("Enter a valid card number.")
    month, _, year = (expiry or "").strip().partition("/")
    if not (month.strip().isdigit() and year.strip().isdigit()):
        errors["expiry"] = gettext("Enter the expiry as MM/YY.")
    else:
        month_n, year_n = int(month), 2000 + int(year) % 100
        if not 1 <= month_n <= 12 or (year_n, month_n) < (today.year, today.month):
            errors["expiry"] = gettext("The card has expired or the date is not valid.")
    if not (cvc or "").strip().isdigit() or len(cvc.strip()) not in (3, 4):
        errors["cvc"] = gettext("Enter the 3 or 4 digits on the back of the card.")
    _raise_all(errors)
    outcome = TEST_CARDS.get(digits, "declined")
    brand = "Visa" if digits.startswith("4") else "Card"
    return MethodToken(f"sandbox:{outcome}:{digits[-4:]}", f"{brand} •••• {digits[-4:]}",
                       "card", f"{month_n:02d}/{year_n % 100:02d}")


def tokenize_ach(routing: str, account: str) -> MethodToken:
    routing, account = (routing or "").strip(), (account or "").strip()
    errors: dict[str, str] = {}
    if not (routing.isdigit() and len(routing) == 9):
        errors["routing_number"] = gettext("Enter the 9-digit routing number.")
    if not (account.isdigit() and 4 <= len(account) <= 17):
        errors["account_number"] = gettext("Enter the account number (4 to 17 digits).")
    _raise_all(errors)
    outcome = TEST_ACCOUNTS.get(account, "declined")
    return MethodToken(f"sandbox:{outcome}:{account[-4:]}", f"Bank account •••• {account[-4:]}",
                       "ach")


class SandboxGateway:
    """Charges by the outcome encoded in the token; the same idempotency key gives the same
    reference, as a real gateway would. The "network error" card times out on `charge`; asked
    again (`resolve`), the sandbox reports that the charge went through: the case a pending
    payment exists for."""

    name = "sandbox"

    @staticmethod
    def _outcome(token: str) -> str:
        parts = token.split(":")
        return parts[1] if len(parts) == 3 and parts[0] == "sandbox" else "declined"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        outcome = self._outcome(request.token)
        if outcome == "succeeded":
            return ChargeResult("succeeded", f"sbx_{request.idempotency_key[:24]}")
        if outcome == "network_error":
            return ChargeResult("pending", "", MESSAGES["network_error"])
        return ChargeResult("failed", "", MESSAGES.get(outcome, MESSAGES["declined"]))

    def resolve(self, request: ChargeRequest) -> ChargeResult:
        if self._outcome(request.token) == "network_error":
            return ChargeResult("succeeded", f"sbx_{request.idempotency_key[:24]}")
        return self.charge(request)

    def ensure_customer(self, customer) -> str:
        return customer.gateway_customer_ref or f"sbx_cus_{customer.id}"

    def detach(self, token: str) -> None:
        return None

    def refund(self, request: RefundRequest) -> RefundResult:
        """Every refund of a sandbox charge succeeds; the same key gives the same reference."""
        if not request.reference.startswith("sbx_"):
            return RefundResult("failed", "", N_("The payment provider does not know this charge."))
        return RefundResult("succeeded", f"sbx_re_{request.idempotency_key[:24]}")
