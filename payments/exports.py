"""Files for people and banks: the bank batch file (代发) in CSV and XLSX, with the columns
Chinese banks take for bulk payments, and a statement with its household split. Headers are
translated (Chinese by default for banks; English when asked in English)."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from backend.exports import as_csv, as_xlsx  # noqa: F401  the files, built the one way

from .models import BankBatch, Statement


def _payee_account_bank(reference: str) -> tuple[str, str]:
    """A bank payout reference → (account, bank): ``bank:<bank>:<account>`` or
    ``bank:<bank>-<account>`` (the platform keeps masked references, never full numbers in
    clear: the bank's payee register completes them). Anything else is given whole as the
    account."""
    if not reference.startswith("bank:"):
        return reference, ""
    rest = reference.removeprefix("bank:")
    if ":" in rest:
        bank, account = rest.split(":", 1)
    elif "-" in rest:
        bank, account = rest.rsplit("-", 1)
    else:
        bank, account = "", rest
    return account, bank


def batch_rows(batch: BankBatch, payouts: Iterable) -> tuple[list[str], list[list]]:
    header = [
        _("payee name (收款人名称)"),
        _("account (收款账号)"),
        _("bank (开户行)"),
        _("amount (金额)"),
        _("purpose (用途)"),
    ]
    rows = []
    for payout in payouts:
        cooperative = payout.statement.cooperative
        account, bank = _payee_account_bank(cooperative.payout_reference)
        purpose = _("Shitun market statement %(statement)s (%(start)s to %(end)s)") % {
            "statement": payout.statement_id,
            "start": payout.statement.period_start.isoformat(),
            "end": payout.statement.period_end.isoformat(),
        }
        rows.append([cooperative.name_zh, account, bank, f"{payout.amount:.2f}", purpose])
    return header, rows


def statement_rows(statement: Statement, lines, shares) -> list[list]:
    rows: list[list] = [
        [_("statement"), statement.pk],
        [_("cooperative"), statement.cooperative.name_zh],
        [_("period"), f"{statement.period_start.isoformat()} – {statement.period_end.isoformat()}"],
        [_("goods value accepted"), f"{statement.goods_value:.2f}"],
        [_("commission rate"), f"{statement.commission_rate}"],
        [_("commission"), f"{statement.commission:.2f}"],
        [_("refunds and adjustments"), f"{statement.refunds:.2f}"],
        [_("net payable"), f"{statement.net_payable:.2f}"],
        [_("status"), statement.get_status_display()],
        [],
        [_("fulfilment"), _("order"), _("goods value accepted")],
    ]
    rows += [
        [line.fulfilment_id, line.fulfilment.order_id, f"{line.goods_value:.2f}"] for line in lines
    ]
    rows += [
        [],
        [
            _("household"),
            _("village"),
            _("on the poverty list"),
            _("goods value traced"),
            _("share"),
        ],
    ]
    poverty_total = 0
    for share in shares:
        rows.append(
            [
                share.household.name,
                share.household.village,
                _("yes") if share.on_poverty_list else _("no"),
                f"{share.goods_value:.2f}",
                f"{share.amount:.2f}",
            ]
        )
        if share.on_poverty_list:
            poverty_total += share.amount
    rows.append([_("poverty-list subtotal"), "", "", "", f"{poverty_total:.2f}"])
    return rows
