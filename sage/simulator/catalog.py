"""Invented master data for the simulated companies: vendors, items and charts of accounts.

ABC is a mid-sized distributor with two AP divisions; TST is the small test company every
Sage 100 install keeps around. Names and free text deliberately include the characters real
users type: accents, ampersands, angle brackets, Slack-looking mentions and emoji.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Vendor:
    division: str
    number: str
    name: str
    terms: str
    typical: tuple[int, int]  # invoice amount range, whole dollars
    expense_account: str


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    description: str
    unit_cost: Decimal
    taxable: bool


@dataclass(frozen=True, slots=True)
class Account:
    account: str  # formatted, "400-01-00"
    description: str
    account_type: str
    group: str


# TermsCode -> days until due
TERMS = {"00": 0, "01": 30, "02": 30, "03": 15, "04": 45, "05": 10}

VENDORS = {
    "ABC": (
        Vendor("01", "AIRWAY", "Airway Freight Lines", "01", (180, 2400), "640-00-00"),
        Vendor("01", "CAPITAL", "Capital Insurance Group", "01", (900, 6200), "650-00-00"),
        Vendor("01", "CONTAIN", "Container Supply Co.", "02", (300, 9800), "500-01-00"),
        Vendor("01", "METRO", "Metro Electric & Gas", "03", (420, 3100), "620-00-00"),
        Vendor("01", "SUNRISE", "Sunrise Janitorial Services", "01", (250, 900), "660-00-00"),
        Vendor("01", "HILLTOP", "Hilltop Property Management", "00", (4500, 4500), "610-00-00"),
        Vendor("01", "NORDIC", "Nordic Büromöbel GmbH", "04", (700, 12500), "150-00-00"),
        Vendor("01", "PRAIRIE", "Prairie Telecom", "01", (160, 640), "670-00-00"),
        Vendor("02", "OFFICE", "OfficeLine Supplies", "01", (40, 1300), "630-00-00"),
        Vendor("02", "PRINTCO", "Printco Graphics <Wholesale>", "05", (90, 2200), "630-00-00"),
        Vendor("02", "WESTCST", "West Coast Logistics", "01", (380, 5400), "640-00-00"),
        Vendor("02", "LAKESID", "Lakeside Packaging & Pallet", "02", (260, 7600), "500-02-00"),
        Vendor("02", "CAFE", "Café Olé Catering", "03", (120, 980), "660-00-00"),
        Vendor("02", "TECHPRO", "TechPro IT Services", "01", (600, 8800), "670-00-00"),
    ),
    "TST": (
        Vendor("01", "TEST01", "Test Vendor One", "01", (10, 500), "630-00-00"),
        Vendor("01", "TEST02", "Test Vendor Two", "03", (50, 900), "640-00-00"),
        Vendor("01", "SAMPLE", "Sample Supplies Inc.", "01", (20, 300), "630-00-00"),
    ),
}

ITEMS = (
    Item("A-1250", "Steel shelving unit 72in", Decimal("184.5000"), True),
    Item("CB-2418", "Corrugated box 24x18x18", Decimal("1.3750"), True),
    Item("PPR-8511", "Copy paper 8.5x11, case", Decimal("38.9900"), True),
    Item("TON-45X", "Toner cartridge, black", Decimal("92.4000"), True),
    Item("LBL-4X6", "Shipping labels 4x6 (roll/500)", Decimal("14.2500"), True),
    Item("GLV-NIT", "Nitrile gloves, box of 100", Decimal("8.7500"), True),
    Item("PAL-4840", "Wood pallet 48x40", Decimal("11.0000"), True),
    Item("STR-16", "Stretch wrap 16in x 1500ft", Decimal("21.6000"), True),
    Item("DSK-ERGO", "Ergonomic desk, sit/stand", Decimal("489.0000"), True),
    Item("/FREIGHT", "Inbound freight charge", Decimal("125.0000"), False),
    Item("/SERVICE", "Installation labour (hours)", Decimal("65.0000"), False),
    Item("TAPE-2IN", "Packing tape 2in, 36 rolls", Decimal("54.0000"), True),
)

_ABC_ACCOUNTS = (
    Account("100-00-00", "Cash in Bank - Operating", "01", "CURRENT ASSETS"),
    Account("102-00-00", "Cash in Bank - Payroll", "01", "CURRENT ASSETS"),
    Account("120-00-00", "Accounts Receivable", "01", "CURRENT ASSETS"),
    Account("130-00-00", "Inventory", "01", "CURRENT ASSETS"),
    Account("140-00-00", "Prepaid Insurance", "01", "CURRENT ASSETS"),
    Account("150-00-00", "Furniture & Equipment", "02", "FIXED ASSETS"),
    Account("160-00-00", "Accumulated Depreciation", "02", "FIXED ASSETS"),
    Account("200-00-00", "Accounts Payable", "03", "CURRENT LIABILITIES"),
    Account("205-00-00", "Purchase Order Clearing", "03", "CURRENT LIABILITIES"),
    Account("210-00-00", "Sales Tax Payable", "03", "CURRENT LIABILITIES"),
    Account("220-00-00", "Accrued Wages", "03", "CURRENT LIABILITIES"),
    Account("300-00-00", "Common Stock", "05", "EQUITY"),
    Account("310-00-00", "Retained Earnings", "05", "EQUITY"),
    Account("400-01-00", "Sales - Division 01", "06", "INCOME"),
    Account("400-02-00", "Sales - Division 02", "06", "INCOME"),
    Account("410-00-00", "Freight Income", "06", "INCOME"),
    Account("500-01-00", "Cost of Goods Sold - Div 01", "07", "COST OF SALES"),
    Account("500-02-00", "Cost of Goods Sold - Div 02", "07", "COST OF SALES"),
    Account("600-00-00", "Salaries & Wages", "08", "EXPENSES"),
    Account("610-00-00", "Rent", "08", "EXPENSES"),
    Account("620-00-00", "Utilities", "08", "EXPENSES"),
    Account("630-00-00", "Office Supplies", "08", "EXPENSES"),
    Account("640-00-00", "Freight In", "08", "EXPENSES"),
    Account("650-00-00", "Insurance", "08", "EXPENSES"),
    Account("660-00-00", "Repairs & Maintenance", "08", "EXPENSES"),
    Account("670-00-00", "Telephone & Internet", "08", "EXPENSES"),
    Account("680-00-00", "Travel & Entertainment", "08", "EXPENSES"),
    Account("690-00-00", "Bank Charges", "08", "EXPENSES"),
)

ACCOUNTS = {
    "ABC": _ABC_ACCOUNTS,
    "TST": tuple(
        account
        for account in _ABC_ACCOUNTS
        if account.account
        in {
            "100-00-00",
            "130-00-00",
            "200-00-00",
            "205-00-00",
            "400-01-00",
            "630-00-00",
            "640-00-00",
        }
    ),
}

CASH, AP, INVENTORY, PO_CLEARING = "100-00-00", "200-00-00", "130-00-00", "205-00-00"

COMMENTS = (
    "",
    "",
    "",
    "Net 30 per agreement",
    "Rush – needed before month end",
    "Replaces INV 10021 (damaged)",
    "Café & catering for Q4 kickoff",
    "Price per quote #4471 <confirmed>",
    "Ship via *ground*, not air",
    "Müller quote, paid in USD",
    "Call Dana @ ext. 214 first",
    "✅ approved by J. Ortiz",
    "<@U02ABCDEF> please review",
    "50% deposit; balance on delivery",
    "季度订单 – quarterly order",
    "Do not pay > $5,000 w/o CFO",
)

JOURNAL_COMMENTS = {
    "GJ": ("Monthly rent", "Accrue wages", "Depreciation", "Reclass supplies", "Bank fees"),
    "AP": ("AP invoice register",),
    "PO": ("Receipt of goods",),
}

USERS = ("0000000001", "0000000002", "0000000003", "0000000007", "0000000012")
