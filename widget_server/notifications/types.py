"""The email types, each declared once with its on/off switch (N-2, N-3).

A type's declaration holds its tokens, its default texts and its switch (default, help); the
merchant configuration's Email Notifications group is generated from it
(`tenancy.configuration.NOTIFICATIONS`), so adding an email type is one declaration here. A type
without a switch (the admin's test email) is always sent.

No Flask imports: the configuration imports this module, and the rest of `notifications`
imports the configuration.

Languages (issue #20 item 5, B-5): the default subjects and bodies are English msgids marked with
`N_` for extraction (`make translations`) and translated when an email is rendered, in the
customer's language (`templates.render`). Translations keep the `{{ token }}` names as they are.
Labels and help texts are the admin's, in English.
"""
from dataclasses import dataclass, field

from ..core.tokens import COMMON


def N_(text: str) -> str:
    """Marks a default text for translation; translated when rendered (`templates.render`)."""
    return text


@dataclass(frozen=True)
class Switch:
    """The type's switch in Settings → Email Notifications: on or off by default, and its help
    text (the label is the type's)."""
    default: bool = True
    help: str = ""


@dataclass(frozen=True)
class EmailType:
    key: str
    label: str
    tokens: tuple[str, ...]
    subject: str
    body: str
    switch: Switch | None = field(default_factory=Switch)


EMAIL_TYPES = {t.key: t for t in (
    EmailType("credential_create", "Credential Create", (*COMMON, "create_link"),
              N_("Set up your {{ merchant_name }} account"),
              N_("Hello {{ contact_name }},\n\nChoose a username and password for your "
                 "{{ merchant_name }} customer portal:\n{{ create_link }}\n\nThe link works "
                 "once and expires.")),
    EmailType("password_reset", "Password Reset", (*COMMON, "reset_link"),
              N_("Reset your {{ merchant_name }} password"),
              N_("Hello {{ contact_name }},\n\nSomeone asked to reset the password of your "
                 "{{ merchant_name }} portal account. Choose a new one here:\n"
                 "{{ reset_link }}\n\nIf it was not you, ignore this email: your password "
                 "stays as it is.")),
    EmailType("temporary_password", "Temporary Password", (*COMMON, "temporary_password"),
              N_("Your temporary {{ merchant_name }} password"),
              N_("Hello {{ contact_name }},\n\nYour temporary password is "
                 "{{ temporary_password }}\nIt works for one sign-in at {{ portal_link }}, "
                 "after which you choose your own.")),
    EmailType("invitation", "Invitation", COMMON, "", ""),  # defaults: merchant configuration
    EmailType("payment_receipt", "Payment Receipt",
              (*COMMON, "amount", "payment_date", "reference"),
              N_("Receipt for your payment to {{ merchant_name }}"),
              N_("Hello {{ contact_name }},\n\nThank you: we received {{ amount }} on "
                 "{{ payment_date }} (payment number {{ reference }}).\n\nYour account: "
                 "{{ portal_link }}")),
    EmailType("payment_failed", "Payment Failed",
              (*COMMON, "amount", "payment_date", "reason"),
              N_("Your scheduled payment to {{ merchant_name }} did not go through"),
              N_("Hello {{ contact_name }},\n\nThe payment of {{ amount }} scheduled for "
                 "{{ payment_date }} did not go through: {{ reason }}\n\nNothing was charged. "
                 "You can pay or choose another payment method here: {{ portal_link }}"),
              Switch(help="When a scheduled or autopay payment fails, the customer is told "
                          "(nobody watches the page then).")),
    EmailType("invoice_issued", "Invoice Issued",
              (*COMMON, "invoice_number", "amount", "due_date", "pay_link"),
              N_("Invoice {{ invoice_number }} from {{ merchant_name }}"),
              N_("Hello {{ contact_name }},\n\nInvoice {{ invoice_number }} for {{ amount }} "
                 "is due on {{ due_date }}.\n\nPay invoice: {{ pay_link }}")),
    EmailType("order_confirmation", "Order Confirmation",
              (*COMMON, "order_number", "items", "amount", "billing_period", "start_date"),
              N_("Your order {{ order_number }} with {{ merchant_name }}"),
              N_("Hello {{ contact_name }},\n\nThank you for your order {{ order_number }}: "
                 "{{ items }}, {{ amount }} {{ billing_period }}, from {{ start_date }}.\n\n"
                 "Your orders and invoices: {{ portal_link }}"),
              Switch(help="When an order is placed, by the customer in the portal or by you, "
                          "the customer gets its confirmation.")),
    EmailType("order_cancelled", "Order Cancelled",
              (*COMMON, "order_number", "end_date"),
              N_("Your order {{ order_number }} with {{ merchant_name }} is cancelled"),
              N_("Hello {{ contact_name }},\n\nYour order {{ order_number }} is cancelled. It "
                 "ends on {{ end_date }} and is not billed again.\n\nYour account: "
                 "{{ portal_link }}"),
              Switch(help="When an order is cancelled, at once or at the end of its period, "
                          "the customer is told when it ends.")),
    EmailType("proposal_sent", "Proposal Sent",
              (*COMMON, "proposal_number", "amount", "valid_until", "proposal_link"),
              N_("Proposal {{ proposal_number }} from {{ merchant_name }}"),
              N_("Hello {{ contact_name }},\n\n{{ merchant_name }} sent you proposal "
                 "{{ proposal_number }} for {{ amount }}, valid until {{ valid_until }}.\n\n"
                 "Read it, then accept or decline it here: {{ proposal_link }}"),
              Switch(help="When you send a proposal (a quote), the customer gets a link to "
                          "it in the portal, where they accept or decline it.")),
    EmailType("credit_note_issued", "Credit Note Issued",
              (*COMMON, "credit_note_number", "invoice_number", "amount", "reason",
               "credit_note_link"),
              N_("Credit note {{ credit_note_number }} from {{ merchant_name }}"),
              N_("Hello {{ contact_name }},\n\nWe issued credit note {{ credit_note_number }} "
                 "for {{ amount }} on invoice {{ invoice_number }}: {{ reason }}\n\n"
                 "What it takes off the invoice lowers what you owe; any rest is credit on "
                 "your account for your next invoices.\n\nThe credit note (PDF): "
                 "{{ credit_note_link }}\nYour account: {{ portal_link }}"),
              Switch(help="When you issue a credit note against an invoice, the customer gets "
                          "it with a link to its PDF.")),
    # a guest's checkout code (#22): no customer yet, so no contact name; always sent (without
    # it a guest cannot check out), in the language of the visitor's request
    EmailType("guest_checkout_code", "Guest Checkout Code",
              ("merchant_name", "code", "valid_minutes"),
              N_("Your {{ merchant_name }} checkout code"),
              N_("Hello,\n\nYour code to confirm this email address at {{ merchant_name }} "
                 "is:\n\n{{ code }}\n\nIt works once, for {{ valid_minutes }} minutes. If "
                 "you did not ask for it, ignore this email."),
              switch=None),
    # service issues (#23 item 2): an admin's reply, to the customer in their language
    EmailType("issue_reply", "Issue Reply",
              (*COMMON, "issue_number", "issue_subject", "message", "issue_link"),
              N_("Reply to your request {{ issue_number }} at {{ merchant_name }}"),
              N_("Hello {{ contact_name }},\n\nWe answered your request {{ issue_number }} "
                 "({{ issue_subject }}):\n\n{{ message }}\n\nRead the whole conversation and "
                 "reply here: {{ issue_link }}"),
              Switch(help="When you reply in a service issue, the customer gets your answer "
                          "with a link to the conversation.")),
    # ...and the customer's message, to the merchant's admins (in the admins' English)
    EmailType("issue_customer_message", "Issue Message to Admins",
              ("merchant_name", "customer_name", "issue_number", "issue_subject", "message",
               "admin_link"),
              "{{ customer_name }} wrote in issue {{ issue_number }}: {{ issue_subject }}",
              "{{ customer_name }} wrote in issue {{ issue_number }} ({{ issue_subject }}):"
              "\n\n{{ message }}\n\nAnswer in the issues inbox: {{ admin_link }}",
              Switch(help="When a customer opens or writes in a service issue, the admin it is "
                          "assigned to is emailed; unassigned, every admin who manages "
                          "customers.")),
    # a webhook endpoint disabled after failing (#25, A-2), to the merchant's owners, in English
    EmailType("webhook_endpoint_disabled", "Webhook Endpoint Disabled",
              ("merchant_name", "endpoint_url", "failure", "endpoint_link"),
              "Webhook endpoint disabled: {{ endpoint_url }}",
              "Your webhook endpoint {{ endpoint_url }} kept failing ({{ failure }}), so "
              "{{ merchant_name }} stopped sending to it.\n\nSee its delivery log, fix it and "
              "switch it on again: {{ endpoint_link }}",
              Switch(help="When a webhook endpoint keeps failing and is switched off, the "
                          "merchant's owners are emailed.")),
    # the admin's own test email, in the admin's language (English): not marked
    EmailType("test", "Test email", COMMON, "Test email from {{ merchant_name }}",
              "Hello {{ contact_name }},\n\nThis is a test of your customer portal's email "
              "delivery.\n\nPortal: {{ portal_link }}",
              switch=None),  # the admin's "send a test email" is not a notification
)}

# The types a merchant can switch off, in the order the settings page lists them.
SWITCHABLE = tuple(t for t in EMAIL_TYPES.values() if t.switch is not None)
