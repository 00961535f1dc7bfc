"""Contract-shaped agent rows for client and parser tests (the simulator has its own data)."""

from __future__ import annotations

_AUDIT = {
    "DateCreated": "20261120",
    "TimeCreated": "9.5",
    "UserCreatedKey": "0000000001",
    "DateUpdated": "",
    "TimeUpdated": "",
    "UserUpdatedKey": "",
}


def ap_invoice(key: str = "K1", **changes: object) -> dict:
    row = {
        "RecordKey": key,
        "SourceTable": "AP_OpenInvoice",
        "APDivisionNo": "01",
        "VendorNo": "AIRWAY ",
        "VendorName": "Airway Freight   ",
        "InvoiceNo": "INV-1001",
        "InvoiceDate": "20261119",
        "InvoiceDueDate": "17530101",
        "InvoiceAmt": "1250.00",
        "Balance": "1250.00",
        "TermsCode": "01",
        "HoldPayment": "N",
        "PurchaseOrderNo": "",
        "Comment": "",
        **_AUDIT,
    }
    row.update(changes)
    return row


def purchase_order(key: str = "P1", **changes: object) -> dict:
    row = {
        "RecordKey": key,
        "PurchaseOrderNo": "0000184",
        "PurchaseOrderDate": "20261118",
        "OrderType": "S",
        "OrderStatus": "O",
        "APDivisionNo": "01",
        "VendorNo": "AIRWAY",
        "PurchaseName": "Airway Freight",
        "WarehouseCode": "000",
        "ShipToCode": "",
        "RequiredExpireDate": "",
        "TaxableAmt": "100.00",
        "NonTaxableAmt": "50.00",
        "SalesTaxAmt": "8.25",
        "FreightAmt": "-1.25",
        "Comment": "rush",
        "Lines": [
            {
                "LineKey": "000001",
                "ItemCode": "WIDGET",
                "ItemCodeDesc": "Widget, blue",
                "WarehouseCode": "000",
                "QuantityOrdered": "10",
                "UnitCost": "10.00",
                "ExtensionAmt": "100.00",
            }
        ],
        **_AUDIT,
    }
    row.update(changes)
    return row


def gl_posting(key: str = "G1", **changes: object) -> dict:
    row = {
        "RecordKey": key,
        "AccountKey": "400010000",
        "Account": "400-01-00",
        "AccountDesc": "Sales",
        "PostingDate": "20261120",
        "SourceJournal": "GJ",
        "JournalRegisterNo": "000123",
        "SequenceNo": "000001",
        "PostingComment": "",
        "DebitAmount": "0.00",
        "CreditAmount": "75.10",
        "BatchNo": "00001",
        "SourceModule": "G/L",
        "DateCreated": "20261120",
        "TimeCreated": "13.50833",
        "UserCreatedKey": "0000000001",
    }
    row.update(changes)
    return row


def gl_account(key: str = "A1", **changes: object) -> dict:
    row = {
        "RecordKey": key,
        "AccountKey": "400010000",
        "Account": "400-01-00",
        "RawAccount": "4000100",
        "AccountDesc": "Sales",
        "MainAccountCode": "400",
        "AccountType": "05",
        "AccountGroup": "INCOME",
        "Status": "A",
        **_AUDIT,
    }
    row.update(changes)
    return row


BY_PATH = {
    "ap-invoices": ap_invoice,
    "purchase-orders": purchase_order,
    "gl-postings": gl_posting,
    "gl-accounts": gl_account,
}
