"""The public material the corpus follows, by key.

Templates name one of these keys; the manifest records it per message and
the README lists them. The material was read, then re-expressed: our own
wording following each layout's fields, labels and order. Nothing from these
sources is copied beyond short attributed quotes, and nothing fetched is kept
in the repository.
"""

from __future__ import annotations

SOURCES: dict[str, str] = {
    "koha-sample-notices": "Koha-Community/Koha installer/data/mysql/en/mandatory/sample_notices.yml (GPL-3.0): "
                           "ODUE, PREDUE, DUEDGST, HOLD, HOLD_SLIP, ISSUESLIP, CHECKINSLIP, ACCOUNT_DEBIT, "
                           "MEMBERSHIP_EXPIRY, RECALL_REQUESTER_DET, NEW_SUGGESTION",
    "evergreen-seed": "evergreen-library-system/Evergreen Open-ILS/src/sql/Pg/950.data.seed-values.sql (GPL-2.0): "
                      "action_trigger.event_definition 1 (7 Day Overdue Email), 3 (90 Day Overdue Mark Lost Notice), "
                      "5 (Hold Ready for Pickup Email), 7 (Hold Expires from Shelf Soon), 13 (Self-Checkout Fines Receipt), "
                      "Email Checkout Receipt; config.print_template patron_data, hold_shelf_slip, bills_current, patron_address",
    "evergreen-upgrade": "evergreen-library-system/Evergreen Open-ILS/src/sql/Pg/upgrade/0565.schema.action-trigger."
                         "event_definition.hold-cancel-no-target-notification.sql",
    "sierra-notices": "Sierra help: Overdue Notices https://documentation.iii.com/sierrahelp/Content/sril/sril_notices_overdue.html; "
                      "Courtesy Notice Data Library https://documentation.iii.com/sierrahelp/Content/sril/sril_pt_courtesy.html; "
                      "Marmot Library Network: Overdue/Courtesy/Billing Notices (Print Templates) "
                      "https://marmot-support.atlassian.net/wiki/spaces/MKB/pages/1291780119",
    "sierra-records": "NOTES.md §2 (Millennium/Sierra patron record labels, PatronAPI, Create Lists exports, Sierra REST patron JSON, "
                      "outstanding holds lists), from the Sierra/Millennium documentation",
    "polaris-notices": "Polaris 7.x staff help: Overdue, Missing Part, Combined Notices and Bills "
                       "https://documentation.iii.com/polaris/7.5/PolarisStaffHelp/Patron_Services_Admin/PDPnotices/Overdue_Notices_Bills_and_Combined_Notices.htm; "
                       "Reminder Notices https://documentation.iii.com/polaris/7.0/PolarisStaffHelp/Patron_Services_Admin/PDPnotices/Reminder_Notices.htm",
    "polaris-reports": "Polaris Overdue Call List and Patron Billing Statement by Patron Barcode "
                       "https://nlls.libanswers.com/library-help/faq/206592; "
                       "Indianapolis Public Library Shared System: Borrower Account Notices https://weshare.indypl.org/sharednet/borrower-account-notices",
    "symphony-notices": "SirsiDynix Symphony Workflows: Step-by-step Running Overdue Notices "
                        "https://esal.mut.ac.za/Helps/Symphony/Workflows/English/Content/workflows/14-Reports/Step-by-step_Running_Reports/Stepbystep_Overdue_Notic.htm; "
                        "Charge Notice and Bill Notice tabs https://sirsi.sitehost.iu.edu/Helps/Symphony/Workflows/English/Content/Topics/14-Reports/Tabs/Bill_Notice_Output.htm",
    "symphony-records": "NOTES.md §2 (Symphony flat user records: DOCUMENT BOUNDARY, FORM=LDUSER, .USER_ID., bills)",
    "collection-agency": "NOTES.md §2 and §4 (collection-agency referral reports; Unique Management Services' categories)",
    "notes-fax": "NOTES.md §5 (email-to-fax gateways and numbers)",
    "ala-ethics": "ALA Code of Ethics, article III https://www.ala.org/tools/ethics (short quote)",
    "ors-192": "ORS 192.355(23), Oregon public records exemption for library records (NOTES.md §3)",
    "library-practice": "Ordinary library business mail written for the corpus (job postings, ILL, grants, minutes, "
                        "policies, vendor questions, programs), after the kinds listed in issue 11",
    "staff-prose": "Staff mail written for the corpus after the phrasings listed in issue 11 (category 3 and 4)",
}
