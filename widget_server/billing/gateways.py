"""Payment gateways behind one interface. The sandbox is the embedded default: documented test
cards and bank accounts, no network, nothing kept. Card numbers and CVVs go to `tokenize_*`
and no further: only the token, brand and last four are ever stored (PCI)."""
from dataclasses import dataclass

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
    "declined": "The card was declined. Please use another payment method.",
    "insufficient_funds": "The payment was declined for insufficient funds.",
    "network_error": "The payment provider could not be reached; the payment is pending.",
}


@dataclass(frozen=True)
class MethodToken:
    token: str  # what the gateway charges
    label: str  # "Visa •••• 4242", shown to the customer


@dataclass(frozen=True)
class ChargeResult:
    status: str  # succeeded | failed | pending
    reference: str = ""
    message: str = ""


class TokenizeError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def tokenize_card(number: str, expiry: str, cvc: str, today) -> MethodToken:
    """Check a card's shape and turn it into a sandbox token; the number is not kept."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    if not 12 <= len(digits) <= 19 or not _luhn(digits):
        raise TokenizeError("Enter a valid card number.", "card_number")
    month, _, year = (expiry or "").strip().partition("/")
    if not (month.strip().isdigit() and year.strip().isdigit()):
        raise TokenizeError("Enter the expiry as MM/YY.", "expiry")
    month_n, year_n = int(month), 2000 + int(year) % 100
    if not 1 <= month_n <= 12 or (year_n, month_n) < (today.year, today.month):
        raise TokenizeError("The card has expired or the date is not valid.", "expiry")
    if not (cvc or "").strip().isdigit() or len(cvc.strip()) not in (3, 4):
        raise TokenizeError("Enter the 3 or 4 digits on the back of the card.", "cvc")
    outcome = TEST_CARDS.get(digits, "declined")
    brand = "Visa" if digits.startswith("4") else "Card"
    return MethodToken(f"sandbox:{outcome}:{digits[-4:]}", f"{brand} •••• {digits[-4:]}")


def tokenize_ach(routing: str, account: str) -> MethodToken:
    routing, account = (routing or "").strip(), (account or "").strip()
    if not (routing.isdigit() and len(routing) == 9):
        raise TokenizeError("Enter the 9-digit routing number.", "routing_number")
    if not (account.isdigit() and 4 <= len(account) <= 17):
        raise TokenizeError("Enter the account number (4 to 17 digits).", "account_number")
    outcome = TEST_ACCOUNTS.get(account, "declined")
    return MethodToken(f"sandbox:{outcome}:{account[-4:]}", f"Bank account •••• {account[-4:]}")


class SandboxGateway:
    """Charges by the outcome encoded in the token; the same idempotency key gives the same
    reference, as a real gateway would."""

    def charge(self, *, amount_minor: int, currency: str, token: str,
               idempotency_key: str) -> ChargeResult:
        parts = token.split(":")
        outcome = parts[1] if len(parts) == 3 and parts[0] == "sandbox" else "declined"
        if outcome == "succeeded":
            return ChargeResult("succeeded", f"sbx_{idempotency_key[:24]}")
        if outcome == "network_error":
            return ChargeResult("pending", "", MESSAGES["network_error"])
        return ChargeResult("failed", "", MESSAGES.get(outcome, MESSAGES["declined"]))


def gateway() -> SandboxGateway:
    return SandboxGateway()
