"""ILS notices, slips, receipts and record layouts, re-expressed in our own words.

Each template follows one real layout field for field — the labels, their
order, what is filled in where, the wording's register — and cites it
(`source`, a key of `sources.SOURCES`, plus the notice's name in the comment).
The sentences are ours; labels such as `Title:` or `P BARCODE` are the ILS's
own field names. Templates are split between `dev` and `test` by source
notice: the test half's notices never appear in the dev half.
"""

from __future__ import annotations

from bench.corpus.model import Template

KOHA = {
    "p.first": "<<borrowers.firstname>>", "p.last": "<<borrowers.surname>>", "p.middle": "<<borrowers.initials>>",
    "p.card": "<<borrowers.cardnumber>>", "p.phone": "<<borrowers.phone>>", "p.email": "<<borrowers.email>>",
    "p.address": "<<borrowers.address>>", "p.city_line": "<<borrowers.city>> <<borrowers.zipcode>>",
    "p.salutation": "<<borrowers.title>> <<borrowers.surname>>", "p.owed": "<<total>>",
    "lib.name": "<<branches.branchname>>", "lib.street": "<<branches.branchaddress1>>",
    "lib.city_line": "<<branches.branchcity>> <<branches.branchzip>>", "lib.phone": "<<branches.branchphone>>",
    "lib.email": "<<branches.branchemail>>", "i.title": "<<biblio.title>>", "i.author": "<<biblio.author>>",
    "i.barcode": "<<items.barcode>>", "i.call": "<<items.itemcallnumber>>", "i.fine": "<<items.fine>>",
    "i.due_us": "<<issues.date_due>>", "i.price": "<<items.replacementprice>>", "d.us": "<<today>>",
    "d.long": "<<today>>", "until.us": "<<reserves.expirationdate>>", "n": "", "fines": "<<total>>",
    "s.first": "<<user>>", "i.author_natural": "<<biblio.author>>", "d.es": "<<today>>", "until.es": "<<reserves.expirationdate>>",
    "p.one_line_address": "<<borrowers.address>>, <<borrowers.city>> <<borrowers.zipcode>>", "p.dob_us": "<<borrowers.dateofbirth>>",
    "p.salutation_only": "<<borrowers.title>>", "p.ils_name": "<<borrowers.surname>>, <<borrowers.firstname>>",
}
EVERGREEN = {
    "p.first": "[% user.first_given_name %]", "p.last": "[% user.family_name %]", "p.middle": "[% user.second_given_name %]",
    "p.card": "[% user.card.barcode %]", "p.email": "[% user.email %]", "p.phone": "[% user.day_phone %]",
    "p.address": "[% addr.street1 %]", "p.city_line": "[% addr.city %], [% addr.state %] [% addr.post_code %]",
    "p.dob_iso": "[% patron.dob %]", "p.license": "[% patron.ident_value %]", "p.owed": "[% xact.balance_owed %]",
    "i.title": "[% copy_details.title %]", "i.author": "[% copy_details.author %]",
    "i.call": "[% circ.target_copy.call_number.label %]", "i.barcode": "[% circ.target_copy.barcode %]",
    "i.due_iso": "[% date.format(helpers.format_date(circ.due_date), '%Y-%m-%d') %]",
    "i.price": "[% helpers.get_copy_price(circ.target_copy) %]", "i.fine": "[% circ.billable_transaction.summary.balance_owed %]",
    "lib.name": "[% circ.circ_lib.name %]", "lib.short": "[% staff_org.shortname %]", "d.us": "[% date.format %]",
    "d.long": "[% date.format(date.now, '%x %r') %]", "until.us": "[% hold.shelf_expire_time %]",
    "s.first": "[% staff.first_given_name %]", "n": "[% loop.count %]", "fines": "[% total_owed %]",
    "lib.phone": "[% circ.circ_lib.phone %]",
}
SIERRA = {
    "p.ils_name": "Patron_Name_C", "p.address_upper": "Patron_Address_Line1_C", "p.city_line": "Patron_Address_Line2_C",
    "p.card": "Patron_Barcode_C", "p.phone": "Patron_Mobile_Number_C", "lib.name": "Library_Address_Line1_C",
    "lib.street": "Library_Address_Line2_C", "lib.city_line": "Library_Address_Line3_C", "lib.phone": "Library_Address_Line4_C",
    "fines": "Total_Patron_Fines_C", "i.title": "Item_Title_C", "i.author": "Item_Author_C", "i.call": "Item_Call_Number_C",
    "i.barcode": "Item_Barcode_C", "i.due_us": "Item_Due_Date_C", "i.price": "Item_Price_C", "n": "Print_Sequence_C",
    "d.us": "Notice_Date_C", "until.us": "Hold_Pickup_By_Date_C",
}
POLARIS = {
    "p.name": "{PatronFullName}", "p.address": "{PatronStreetOne}", "p.city_line": "{PatronCity}, {PatronState} {PatronPostalCode}",
    "p.card": "{PatronBarcode}", "p.phone": "{PatronPhoneVoice1}", "p.email": "{PatronEmailAddress}", "p.first": "{PatronFirstName}",
    "p.owed": "{AmountDue}", "lib.name": "{ReturnAddressName}", "lib.street": "{ReturnAddressStreetOne}",
    "lib.city_line": "{ReturnAddressCity}, {ReturnAddressState} {ReturnAddressPostalCode}", "lib.phone": "{BranchPhone}",
    "i.title": "{BrowseTitle}", "i.author": "{BrowseAuthor}", "i.call": "{CallNumber}", "i.barcode": "{ItemBarcode}",
    "i.due_us": "{DueDate}", "i.price": "{ReplacementCost}", "d.long": "{NoticeDate}", "d.us": "{NoticeDate}",
    "until.us": "{HoldTillDate}", "n": "", "fines": "{TotalAmountDue}",
}
SYMPHONY = {
    "p.name": "<user name>", "p.address": "<user street>", "p.city_line": "<user city/state> <user zip>",
    "p.card": "<user ID>", "p.phone": "<user phone>", "p.email": "<user email>", "lib.name": "<library name>",
    "lib.street": "<library street>", "lib.city_line": "<library city/state>", "lib.phone": "<library phone>",
    "i.title": "<title>", "i.author": "<author>", "i.call": "<call number>", "i.barcode": "<item ID>",
    "i.due_us": "<date due>", "i.price": "<amount>", "d.us": "<date>", "d.long": "<date>", "until.us": "<pickup by>",
    "n": "<n>", "fines": "<total>",
}

TEMPLATES: list[Template] = [
    # ============================================================ Koha (dev)
    # Koha ODUE "Overdue notice" (sample_notices.yml): salutation, the overdue
    # sentence, the branch block (name, address lines, Phone/Fax/Email), the
    # online-renewal and 30-day paragraph, the <item> line, the thanks, "<branch> Staff".
    Template("koha-odue", "koha", "dev", "koha-sample-notices", "ODUE Overdue notice", "Item overdue",
             "Dear {p.first} {p.last},\n\n"
             "Our records show that you have items past their due date. {lib.name} does not charge daily late fees, "
             "but we ask you to bring them back or renew them at the branch below as soon as you can.\n\n"
             "{lib.name}\n{lib.street}\n{lib.city_line}\nPhone: {lib.phone}\nEmail: {lib.email}\n\n"
             "If you have a password for the catalog and the item still has renewals left, you can renew it online. "
             "When an item is more than 30 days overdue your card will be blocked until it is returned.\n\n"
             "These items are overdue at the moment:\n\n{items}\n"
             "Thank you for taking care of this.\n\n{lib.name} Staff\n",
             item='"{i.title}" by {i.author}, {i.call}, Barcode: {i.barcode} Fine: ${i.fine}\n',
             categories=("name", "titles", "money_owed"), placeholders=KOHA),
    # Koha HOLD, print transport: branch return address, "Change service
    # requested", the mailing block, then name + card number and the hold lines
    # (Title, Author, Copy).
    Template("koha-hold-print", "koha", "dev", "koha-sample-notices", "HOLD Hold available for pickup (print)",
             "Hold available for pickup (print notice)",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n\n\nAddress service requested\n\n\n\n"
             "{p.first} {p.last}\n{p.address}\n{p.city_line}\n\n\n\n"
             "{p.first} {p.last} {p.card}\n\n"
             "Something you placed on hold is waiting for you, set aside on {d.us}:\n\n{items}",
             item="Title: {i.title}\nAuthor: {i.author}\nCopy: {n}\n\n",
             categories=("name", "address", "card_number", "holds", "titles"), placeholders=KOHA),
    # Koha ISSUESLIP "Issue slip": branch, "Checked out to <title> <first>
    # <initials> <surname>", (cardnumber), date, "Checked out" entries with
    # Barcode and Date due, then "Overdues".
    Template("koha-issueslip", "koha", "dev", "koha-sample-notices", "ISSUESLIP Issue slip", "Issue slip",
             "{lib.name}\nChecked out to {p.salutation} {p.first} {p.middle} {p.last}\n({p.card})\n\n{d.us}\n\n"
             "Checked out\n{items}\nOverdues\n(none)\n",
             item="{i.title}\nBarcode: {i.barcode}\nDate due: {i.due_us}\n\n",
             categories=("name", "card_number", "titles"), placeholders=KOHA),
    # Koha ACCOUNT_DEBIT "Account fee" (HTML invoice): library name, INVOICE,
    # branch, "Bill to:", "Card number:", the charges table (Created, Updated,
    # Description of charges, Note, Amount, Amount outstanding), the total row.
    Template("koha-account-debit", "koha", "dev", "koha-sample-notices", "ACCOUNT_DEBIT Account fee", "Account fee",
             "<table>\n<tr><th colspan=\"6\"><h3>{lib.name}</h3></th></tr>\n"
             "<tr><th colspan=\"6\"><h2><u>INVOICE</u></h2></th></tr>\n"
             "<tr><th colspan=\"6\">Bill to: {p.first} {p.last}<br />Card number: {p.card}<br /></th></tr>\n"
             "<tr><th>Created</th><th>Updated</th><th>Description of charges</th><th>Note</th><th>Amount</th>"
             "<th>Amount outstanding</th></tr>\n{items}"
             "<tfoot><tr><td colspan=\"5\">Total still owed as of today: </td><td>${fines}</td></tr></tfoot>\n</table>\n",
             item="<tr><td>{i.due_us}</td><td>{i.due_us}</td><td>Lost item, {i.title}</td><td>billed after 3rd notice</td>"
                  "<td>${i.price}</td><td>${i.fine}</td></tr>\n",
             html=True, categories=("name", "card_number", "money_owed", "titles"), placeholders=KOHA),
    # Koha MEMBERSHIP_EXPIRY "Account expiration": salutation with title, the
    # expiry sentence, the date on its own line, "Librarian", branch.
    Template("koha-membership-expiry", "koha", "dev", "koha-sample-notices", "MEMBERSHIP_EXPIRY Account expiration",
             "Account expiration",
             "Dear {p.salutation} {p.first} {p.last},\n\nYour library card is about to expire. Its last day is:\n\n"
             "{until.us}\n\nCard number on file: {p.card}\nAddress on file: {p.address}, {p.city_line}\n\n"
             "Thanks,\n\nLibrarian\n\n{lib.name}\n",
             categories=("name", "card_number", "address"), placeholders=KOHA),
    # ============================================================ Koha (test)
    # Koha PREDUEDGST "Advance notice of item due (digest)": salutation, the
    # due-soon sentence, the item block, thanks.
    Template("koha-predue-digest", "koha", "test", "koha-sample-notices", "PREDUEDGST Advance notice of item due",
             "Advance notice of item due",
             "Dear {p.first} {p.last},\n\nA friendly heads-up: the item(s) below come due in the next few days.\n\n"
             "{items}\nThanks!\n",
             item="{i.title}, {i.author} ({i.barcode}) due {i.due_us}\n",
             categories=("name", "titles"), placeholders=KOHA),
    # Koha HOLD_SLIP (HTML): Date, "Transfer to/Hold in", SURNAME, Firstname,
    # a list of card number, phone, address lines, email; ITEM ON HOLD with
    # title, author, barcode, call number, waiting date; Notes.
    Template("koha-hold-slip", "koha", "test", "koha-sample-notices", "HOLD_SLIP Hold slip", "Hold slip",
             "<h5>Date: {d.us}</h5>\n<h3> Transfer to/Hold in {lib.name}</h3>\n<h3>{p.last}, {p.first}</h3>\n"
             "<ul>\n  <li>{p.card}</li>\n  <li>{p.phone}</li>\n  <li>{p.address}<br />\n      {p.city_line}\n  </li>\n"
             "  <li>{p.email}</li>\n</ul>\n<br />\n<h3>ITEM ON HOLD</h3>\n{items}"
             "<p>Notes:\n<pre>Patron asked that her daughter not be told about this one; call the cell before 5.</pre>\n</p>\n",
             item="<h4>{i.title}</h4>\n<h5>{i.author}</h5>\n<ul>\n  <li>{i.barcode}</li>\n  <li>{i.call}</li>\n  <li>{i.due_us}</li>\n</ul>\n",
             html=True, categories=("name", "card_number", "phone", "address", "email", "holds", "titles", "notes"),
             placeholders=KOHA),
    # Koha RECALL_REQUESTER_DET "Details of patron who recalled item": Date,
    # "Recall for pickup at", SURNAME, Firstname (card), phone, one address
    # line, email, ITEM RECALLED, title by author, Barcode, Callnumber,
    # Waiting since, Notes.
    Template("koha-recall-requester", "koha", "test", "koha-sample-notices", "RECALL_REQUESTER_DET Details of patron who recalled item",
             "Details of patron who recalled item",
             "Date: {d.us}\n\nRecall to be picked up at {lib.name}\n{p.last}, {p.first} ({p.card})\n{p.phone}\n"
             "{p.address}, {p.city_line}\n{p.email}\n\nITEM RECALLED\n{items}",
             item="{i.title} by {i.author}\nBarcode: {i.barcode}\nCallnumber: {i.call}\nWaiting since: {i.due_us}\n"
                  "Notes: needs it back for a class on the 14th\n\n",
             categories=("name", "card_number", "phone", "address", "email", "holds", "titles", "notes"), placeholders=KOHA),
    # Koha NEW_SUGGESTION (HTML): "Suggestion pending approval", Suggested by
    # (name, card, phone, email), Title suggested (Library, Title, Author, ...,
    # Reason for suggestion, Notes).
    Template("koha-new-suggestion", "koha", "test", "koha-sample-notices", "NEW_SUGGESTION New suggestion", "New suggestion",
             "<h3>Purchase suggestion waiting for review</h3>\n<p><h4>Suggested by</h4>\n<ul>\n<li>{p.first} {p.last}</li>\n"
             "<li>{p.card}</li>\n<li>{p.phone}</li>\n<li>{p.email}</li>\n</ul></p>\n<p><h4>Title suggested</h4>\n<ul>\n"
             "<li><b>Library:</b> {lib.name}</li>\n{items}<li><b>Reason for suggestion:</b> going through this myself right now</li>\n"
             "<li><b>Notes:</b> please keep my name off the request</li>\n</ul></p>\n",
             item="<li><b>Title:</b> {i.title}</li>\n<li><b>Author:</b> {i.author}</li>\n",
             html=True, categories=("name", "card_number", "phone", "email", "titles", "notes"), placeholders=KOHA),
    # Koha CHECKINSLIP "Checkin slip": branch, "Checked in items for <title>
    # <first> <initials> <surname>", (cardnumber), date, "Checked in today",
    # title + Barcode per item.
    Template("koha-checkinslip", "koha", "test", "koha-sample-notices", "CHECKINSLIP Checkin slip", "Checkin slip",
             "{lib.name}\nItems returned by {p.salutation} {p.first} {p.middle} {p.last}\n({p.card})\n\n{d.us}\n\n"
             "Returned today\n{items}",
             item="{i.title}\nBarcode: {i.barcode}\n\n",
             categories=("name", "card_number", "titles"), placeholders=KOHA),
    # ============================================================ Evergreen (dev)
    # Evergreen event definition 1, "7 Day Overdue Email Notification": the
    # email headers, "Dear <family>, <first>", the overdue sentence, then per
    # circulation Title, Author, Call Number, Barcode, Due, Item Cost, Total
    # Owed For Transaction, Library.
    Template("eg-overdue-7day", "evergreen", "dev", "evergreen-seed", "7 Day Overdue Email Notification", "Overdue Notification",
             "Dear {p.last}, {p.first}\nAccording to our records the items below are past due.\n\n{items}",
             item="    Title: {i.title}\n    Author: {i.author}\n    Call Number: {i.call}\n    Barcode: {i.barcode}\n"
                  "    Due: {i.due_iso}\n    Item Cost: {i.price}\n    Total Owed For Transaction: {i.fine}\n    Library: {lib.name}\n\n",
             categories=("name", "titles", "money_owed", "email"), placeholders=EVERGREEN),
    # Evergreen event definition 5, "Hold Ready for Pickup Email Notification":
    # headers, salutation, the ready sentence, Title, Author, Call Number,
    # Barcode, Library per hold.
    Template("eg-hold-ready", "evergreen", "dev", "evergreen-seed", "Hold Ready for Pickup Email Notification",
             "Hold Available Notification",
             "Dear {p.last}, {p.first}\nWhat you asked us to hold has come in and can be picked up at the library.\n\n{items}",
             item="    Title: {i.title}\n    Author: {i.author}\n    Call Number: {i.call}\n    Barcode: {i.barcode}\n"
                  "    Library: {lib.name}\n",
             categories=("name", "holds", "titles", "email"), placeholders=EVERGREEN),
    # Evergreen print template patron_data "Patron Data": the label/value table
    # (Barcode, Patron's Username, names, Date of Birth, Identification, Email,
    # phones, Home Library, Privilege Expiration Date, ...) and an address block.
    Template("eg-patron-data", "evergreen", "dev", "evergreen-seed", "print template patron_data", "Patron Data",
             "<table>\n<tr><td>Barcode:</td><td>{p.card}</td></tr>\n<tr><td>Patron's Username:</td><td>{p.card}</td></tr>\n"
             "<tr><td>First Name:</td><td>{p.first}</td></tr>\n<tr><td>Middle Name:</td><td>{p.middle}</td></tr>\n"
             "<tr><td>Last Name:</td><td>{p.last}</td></tr>\n<tr><td>Date of Birth:</td><td>{p.dob_iso}</td></tr>\n"
             "<tr><td>Primary Identification Type:</td><td>Drivers License</td></tr>\n"
             "<tr><td>Primary Identification:</td><td>{p.license}</td></tr>\n<tr><td>Email Address:</td><td>{p.email}</td></tr>\n"
             "<tr><td>Daytime Phone:</td><td>{p.phone}</td></tr>\n<tr><td>Home Library:</td><td>{lib.name}</td></tr>\n"
             "<tr><td>Main (Profile) Permission Group:</td><td>Patrons</td></tr>\n"
             "<tr><td>Privilege Expiration Date:</td><td>{until.iso}</td></tr>\n<tr><td>Barred:</td><td>f</td></tr>\n"
             "<tr><td colspan=\"2\">----------</td></tr>\n<tr><td>Type:</td><td>MAILING</td></tr>\n"
             "<tr><td>Street (1):</td><td>{p.address}</td></tr>\n<tr><td>City:</td><td>{p.city}</td></tr>\n"
             "<tr><td>County:</td><td>Marion</td></tr>\n<tr><td>State:</td><td>OR</td></tr>\n"
             "<tr><td>Postal Code:</td><td>{p.zip}</td></tr>\n</table>\n",
             html=True, categories=("name", "card_number", "birth_date", "drivers_license", "email", "phone", "address"),
             placeholders=EVERGREEN),
    # Evergreen upgrade 0565, "Hold Cancelled (No Target) Email Notification":
    # salutation, the cancelled sentence, Title, Author, Library, Request Date.
    Template("eg-hold-cancel", "evergreen", "dev", "evergreen-upgrade", "Hold Cancelled (No Target) Email Notification",
             "Hold Request Cancelled",
             "Dear {p.last}, {p.first}\nWe had to cancel the holds below: no copy could be found to fill them.\n\n{items}",
             item="    Title: {i.title}\n    Author: {i.author}\n    Library: {lib.name}\n    Request Date: {i.due_iso}\n",
             categories=("name", "holds", "titles", "email"), placeholders=EVERGREEN),
    # Evergreen "Email Checkout Receipt": headers only name the patron; "You
    # checked out the following items" then Title, Author, Call Number,
    # Barcode, Due, Library.
    Template("eg-checkout-receipt", "evergreen", "dev", "evergreen-seed", "Email Checkout Receipt", "Checkout Receipt",
             "Here is what you took home today:\n\n{items}",
             item="    Title: {i.title}\n    Author: {i.author}\n    Call Number: {i.call}\n    Barcode: {i.barcode}\n"
                  "    Due: {i.due_iso}\n    Library: {lib.name}\n\n",
             categories=("name", "email", "titles"), headers_only_name=True, placeholders=EVERGREEN),
    # ============================================================ Evergreen (test)
    # Evergreen event definition 3, "90 Day Overdue Mark Lost Notice":
    # salutation, the marked-LOST sentence, "Title: <t>, by <a>", Call Number,
    # Shelving Location, Barcode, Due, Item Cost, Total Owed, Library.
    Template("eg-mark-lost", "evergreen", "test", "evergreen-seed", "90 Day Overdue Mark Lost Notice", "Overdue Items Marked Lost",
             "Dear {p.last}, {p.first}\nThese items have now been overdue for 90 days and our system has declared them LOST.\n\n{items}",
             item="    Title: {i.title}, by {i.author}\n    Call Number: {i.call}\n    Shelving Location: Adult Nonfiction\n"
                  "    Barcode: {i.barcode}\n    Due: {i.due_iso}\n    Item Cost: {i.price}\n"
                  "    Total Owed For Transaction: {i.price}\n    Library: {lib.name}\n\n",
             categories=("name", "titles", "money_owed", "email"), placeholders=EVERGREEN),
    # Evergreen event definition 7, "Hold Expires from Shelf Soon": salutation,
    # the expiring sentence, Title, Author, Library.
    Template("eg-shelf-expires", "evergreen", "test", "evergreen-seed", "Hold Expires from Shelf Soon", "Hold Available Notification",
             "Dear {p.last}, {p.first}\nThe holds listed here are still waiting on the shelf for you, but they will be released\n"
             "to the next person very soon.\n\n{items}",
             item="    Title: {i.title}\n    Author: {i.author}\n    Library: {lib.name}\n",
             categories=("name", "holds", "titles", "email"), placeholders=EVERGREEN),
    # Evergreen print template hold_shelf_slip "Hold Shelf Slip": the routing
    # line, Barcode, Title, Call Number, "Hold for patron: <family>, <first>
    # <second>", Barcode, Notify by phone / email, slip notes, Request Date,
    # Slip Date, Printed by.
    Template("eg-hold-shelf-slip", "evergreen", "test", "evergreen-seed", "print template hold_shelf_slip", "Hold Shelf Slip",
             "<div>\n  Put this item on the <strong>Public Holds Shelf</strong>.\n</div>\n<br/>\n{items}"
             "<div>Hold for patron: {p.last}, {p.first} {p.middle}</div>\n<div>Barcode: {p.card}</div>\n"
             "<div>Notify by phone: {p.phone}</div>\n<div>Notify by email: {p.email}</div>\n"
             "<ul><li><strong>Staff note</strong> - pickup by her caseworker is OK</li></ul>\n"
             "<div>Request Date: {d.us}</div>\n<div>Slip Date: {d.us}</div>\n<div>Printed by {s.first} at {lib.short}</div>\n",
             item="<div>Barcode: {i.barcode}</div>\n<div>Title: {i.title}</div>\n<div>Call Number: {i.call}</div>\n<br/>\n",
             html=True, categories=("name", "card_number", "phone", "email", "holds", "titles", "notes"), placeholders=EVERGREEN),
    # Evergreen event definition 13, "Self-Checkout Fines Receipt": date,
    # "Fines for:", <family>, <first>, then per open transaction Details,
    # Total Billed, Total Paid, Balance Owed.
    Template("eg-fines-receipt", "evergreen", "test", "evergreen-seed", "Self-Checkout Fines Receipt", "Fines receipt",
             "{d.long}\n\nFines for:\n{p.last}, {p.first}\n\n{items}",
             item="{n}. Details: {i.title}\n   Total Billed: {i.price}\n   Total Paid: 0.00\n   Balance Owed : {i.price}\n",
             categories=("name", "titles", "money_owed"), placeholders=EVERGREEN),
    # Evergreen print template bills_current "Bills, Current": welcome line,
    # the bills sentence, per bill Bill #, Date, Last Billing, Total Billed,
    # Last Payment, Total Paid, Balance; org and date; "You were helped by".
    Template("eg-bills-current", "evergreen", "test", "evergreen-seed", "print template bills_current", "Bills, Current",
             "Thanks for visiting {lib.name}\nThese bills are open on your account:\n\n{items}\n{lib.name} {d.us}\n"
             "You were helped by {s.first}\n",
             item="{n}. Bill #: {i.barcode}\n   Date: {i.due_us}\n   Last Billing: Lost Materials ({i.title})\n"
                  "   Total Billed: ${i.price}\n   Last Payment: none\n   Total Paid: $0.00\n   Balance: ${i.price}\n",
             categories=("titles", "money_owed"), headers_only_name=True, placeholders=EVERGREEN),
    # ============================================================ Sierra (dev)
    # Sierra overdue notice (email, default print template): library address
    # lines 1-4, notice date, the patron's name and address lines, the notice
    # heading, the Text of Circulation Notices message, then per item TITLE,
    # AUTHOR, CALL NO, BARCODE, DUE DATE; Total_Patron_Fines.
    Template("sierra-overdue", "sierra", "dev", "sierra-notices", "Overdue Notice (Notices function)", "Overdue notice",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n{lib.phone}\n\n{d.us}\n\n{p.ils_name}\n{p.address_upper}\n{p.city_line}\n\n"
             "                         OVERDUE NOTICE\n\n"
             "Library records show the material listed below is overdue. Please return it, or call us to renew.\n"
             "Overdue charges keep adding up until it is back.\n\n{items}"
             "Total charges on your record: ${fines}\n",
             item=" {n}  TITLE     {i.title}\n    AUTHOR    {i.author}\n    CALL NO   {i.call}\n    BARCODE   {i.barcode}\n"
                  "    DUE DATE  {i.due_us}\n\n",
             categories=("name", "address", "titles", "money_owed"), placeholders=SIERRA),
    # Millennium/Sierra patron record display (NOTES.md §2 labels): record
    # number, fixed fields two per line, then variable fields.
    Template("sierra-record-screen", "sierra", "dev", "sierra-records", "Millennium patron record display", "Patron record",
             "Patron record {p.record}   Last updated {d.dash}   Created 03-11-2016   Revisions 41\n\n"
             "EXP DATE   {until.dash}        PCODE1   -         P TYPE    1\n"
             "HOME LIBR  {lib.short_lower}               MBLOCK   -         PMESSAGE  -\n"
             "CUR CHKOUT {count}                 TOT CHKOUT 212     MONEY OWED ${p.owed}\n"
             "BIRTH DATE {p.dob_dash}\n\n"
             "PATRN NAME   {p.ils_name}\nADDRESS      {p.dollar_address}\nTELEPHONE    {p.phone}\n"
             "EMAIL ADDR   {p.email}\nP BARCODE    {p.card}\nNOTE         ID checked {d.dash}, lost-card fee waived\n"
             "MESSAGE      Hold shelf: {first_title}\n",
             categories=("name", "address", "phone", "email", "card_number", "record_number", "birth_date",
                         "money_owed", "notes", "holds", "titles"), placeholders=SIERRA),
    # Sierra/Millennium Create Lists export (NOTES.md §2): a header row of
    # field labels, quoted, pipe-delimited, one patron a line.
    Template("sierra-create-lists", "sierra", "dev", "sierra-records", "Create Lists export (patron)", "Review file export",
             '"RECORD #(PATRON)"|"PATRN NAME"|"P BARCODE"|"EMAIL ADDR"|"ADDRESS"|"MONEY OWED"\n{items}',
             item='"{i.record}"|"{i.name}"|"{i.card}"|"{i.email}"|"{i.address}"|"${i.owed}"\n',
             categories=("name", "card_number", "email", "address", "money_owed", "record_number"), rows=True, placeholders=SIERRA),
    # ============================================================ Sierra (test)
    # Sierra hold pickup notice: library address lines, date, patron block,
    # heading, message text, per item TITLE, PICKUP AT, PICKUP BY.
    Template("sierra-hold-pickup", "sierra", "test", "sierra-notices", "Hold pickup notice (Notices function)", "Pickup notice",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n\n{d.us}\n\n{p.ils_name}\n{p.address_upper}\n{p.city_line}\n\n"
             "                      ITEM READY FOR PICKUP\n\n"
             "The material you asked for is now on the hold shelf. Bring your card; we will keep it until the date shown.\n\n{items}",
             item=" {n}  TITLE      {i.title}\n    PICKUP AT  {lib.name}\n    PICKUP BY  {until.us}\n\n",
             categories=("name", "address", "holds", "titles"), placeholders=SIERRA),
    # Millennium PatronAPI dump (NOTES.md §2): LABEL[code]=value<BR> lines.
    Template("sierra-patronapi", "sierra", "test", "sierra-records", "PatronAPI dump", "PatronAPI output",
             "<HTML><BODY>\nREC INFO[p!]=p{p.record_digits}<BR>\nEXP DATE[p43]={until.dash}<BR>\nPCODE1[p44]=-<BR>\n"
             "P TYPE[p47]=1<BR>\nTOT CHKOUT[p48]=87<BR>\nCUR CHKOUT[p50]={count}<BR>\nBIRTH DATE[p51]={p.dob_dash}<BR>\n"
             "HOME LIBR[p53]={lib.short_lower}<BR>\nMONEY OWED[p96]=${p.owed}<BR>\nRECORD #[p81]={p.record_digits}<BR>\n"
             "PATRN NAME[pn]={p.last_first}<BR>\nADDRESS[pa]={p.dollar_address}<BR>\nTELEPHONE[pt]={p.phone}<BR>\n"
             "EMAIL ADDR[pz]={p.email}<BR>\nP BARCODE[pb]={p.card}<BR>\n</BODY></HTML>\n",
             categories=("name", "address", "phone", "email", "card_number", "record_number", "birth_date", "money_owed"),
             placeholders=SIERRA),
    # Sierra REST API patron JSON (NOTES.md §2): names, barcodes, emails,
    # addresses[{lines,type}], phones[{number,type}], birthDate, moneyOwed, varFields.
    Template("sierra-json", "sierra", "test", "sierra-records", "Sierra REST patron object", "patron.json",
             '{{\n  "id": {p.record_digits},\n  "expirationDate": "{until.iso}",\n  "birthDate": "{p.dob_iso}",\n'
             '  "patronType": 1,\n  "homeLibraryCode": "{lib.short_lower}",\n  "names": ["{p.last_first}"],\n'
             '  "barcodes": ["{p.card}"],\n  "emails": ["{p.email}"],\n'
             '  "addresses": [{{"lines": ["{p.address_upper}", "{p.city_upper} OR {p.zip}"], "type": "a"}}],\n'
             '  "phones": [{{"number": "{p.phone}", "type": "t"}}],\n  "moneyOwed": {p.owed},\n'
             '  "varFields": [{{"fieldTag": "x", "content": "Lost card replaced {d.dash}; disputes the {first_title} charge"}}]\n}}\n',
             categories=("name", "address", "phone", "email", "card_number", "record_number", "birth_date",
                         "money_owed", "notes", "titles"), placeholders=SIERRA),
    # Sierra outstanding holds list (NOTES.md §2): an 18-character label
    # column: Patron Info (name / p-number / email / phone), TITLE, CALL #,
    # BARCODE, Pickup Location, Hold Status.
    Template("sierra-holds-list", "sierra", "test", "sierra-records", "List of outstanding holds", "Outstanding holds",
             "OUTSTANDING HOLDS        {lib.name}        {d.us}\n\n{items}",
             item="Patron Info       {i.ils_name} / {i.record} / {i.email} / {i.phone}\nTITLE             {i.title}\n"
                  "CALL #            {i.call}\nBARCODE           {i.barcode}\nPickup Location   {lib.name}\n"
                  "Hold Status       On hold shelf until {until.us}\n\n",
             categories=("name", "record_number", "email", "phone", "holds", "titles"), rows=True, placeholders=SIERRA),
    # Sierra billing notice (Marmot's Billing Notices print template data
    # elements): library lines, patron block, BILLING NOTICE, message, per
    # item title, barcode, charges; Bill_Total_Patron_Fines.
    Template("sierra-billing", "sierra", "test", "sierra-notices", "Billing notice (Notices function)", "Billing notice",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n\n{d.us}\n\n{p.ils_name}\n{p.address_upper}\n{p.city_line}\n\n"
             "                        BILLING NOTICE\n\n"
             "Several notices have gone out about the material below. You are now being billed for it. Returning it in\n"
             "good condition cancels the replacement charge.\n\n{items}"
             "TOTAL AMOUNT DUE     ${p.owed}\n",
             item=" {n}  TITLE            {i.title}\n    BARCODE          {i.barcode}\n    REPLACEMENT      ${i.price}\n"
                  "    PROCESSING FEE   $5.00\n\n",
             categories=("name", "address", "titles", "money_owed"), placeholders=SIERRA),
    # ============================================================ Polaris (dev)
    # Polaris overdue notice (print/e-mail): library return address and
    # phone, date, notice text, patron name and address, per item title,
    # call number, item barcode, due date, assigned branch.
    Template("polaris-overdue", "polaris", "dev", "polaris-notices", "1st Overdue notice", "Overdue notice",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n{lib.phone}\n\n{d.long}\n\n{p.name}\n{p.address}\n{p.city_line}\n\n"
             "OVERDUE NOTICE\n\nOur records show that the library materials listed below are overdue. Please return or renew "
             "them as soon as possible. You can renew online or call the branch.\n\n{items}",
             item="Title:           {i.title}\nCall number:     {i.call}\nItem barcode:    {i.barcode}\nDue date:        {i.due_us}\n"
                  "Assigned branch: {lib.name}\n\n",
             categories=("name", "address", "titles"), placeholders=POLARIS),
    # Polaris hold notice (e-mail): intro, per item title, author, format,
    # pickup branch, held until; patron name and barcode.
    Template("polaris-hold", "polaris", "dev", "polaris-notices", "Hold notice", "Hold request available",
             "{p.name}\nPatron barcode: {p.card}\n\nHOLD REQUEST AVAILABLE\n\nGood news: the item(s) below are waiting for you. "
             "Please pick them up by the date shown.\n\n{items}\n{lib.name}  {lib.phone}\n",
             item="Title:           {i.title}\nAuthor:          {i.author}\nFormat:          Book\nPickup branch:   {lib.name}\n"
                  "Held until:      {until.us}\n\n",
             categories=("name", "card_number", "holds", "titles"), placeholders=POLARIS),
    # Polaris "Overdue Call List" (custom report): patron, barcode, phone,
    # then the overdue items.
    Template("polaris-call-list", "polaris", "dev", "polaris-reports", "Overdue Call List report", "Overdue Call List",
             "Overdue Call List - {lib.name}\nRun {d.us}  Sort: Patron\n\n"
             "Patron Name              Patron Barcode   Phone           Title                                Due Date\n{items}",
             item="{i.last_first:<24} {i.card:<16} {i.phone:<15} {i.title_cut:<36} {i.due_us}\n",
             categories=("name", "card_number", "phone", "titles"), rows=True, placeholders=POLARIS),
    # ============================================================ Polaris (test)
    # Polaris bill (print): return address, date, patron block, BILL, text,
    # per item title, barcode, replacement cost, processing fee; total.
    Template("polaris-bill", "polaris", "test", "polaris-notices", "Bill notice", "Library bill",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n{lib.phone}\n\n{d.long}\n\n{p.name}\n{p.address}\n{p.city_line}\n\n"
             "BILL\n\nThe items below were not returned after our overdue notices and are now billed to your account. "
             "If you find them, bring them back and the replacement charge will be removed.\n\n{items}"
             "Total amount due: ${p.owed}\n",
             item="Title:            {i.title}\nItem barcode:     {i.barcode}\nReplacement cost: ${i.price}\nProcessing fee:   $3.00\n\n",
             categories=("name", "address", "titles", "money_owed"), placeholders=POLARIS),
    # Polaris "Almost overdue / Auto-renew" reminder (e-mail): per item title,
    # call number, volume, due date, format, check-out branch, renewals left.
    Template("polaris-almost-overdue", "polaris", "test", "polaris-notices", "Almost overdue/Auto-renew reminder", "Items due soon",
             "Dear {p.first},\n\nJust a reminder that these items are due back soon. Items that could be renewed automatically "
             "show their new due date.\n\n{items}Questions? Call {lib.name} at {lib.phone}.\n",
             item="Title:          {i.title}\nCall number:    {i.call}\nVolume:\nDue date:       {i.due_us}\nFormat:         Book\n"
                  "Checked out at: {lib.name}\nRenewals left:  2\n\n",
             categories=("name", "titles", "email"), headers_only_name=True, placeholders=POLARIS),
    # Polaris patron record expiration reminder (e-mail): the expiry text and
    # the patron's home address, telephone and e-mail for verification.
    Template("polaris-expiration", "polaris", "test", "polaris-notices", "Patron record expiration notice", "Your library card expires soon",
             "Dear {p.name},\n\nYour library registration will run out on {until.long}. To keep borrowing, please check the details "
             "we have for you and let us know if anything changed:\n\n  Address:   {p.address}, {p.city_line}\n"
             "  Telephone: {p.phone}\n  E-mail:    {p.email}\n  Barcode:   {p.card}\n\n{lib.name}\n{lib.phone}\n",
             categories=("name", "address", "phone", "email", "card_number"), placeholders=POLARIS),
    # Polaris "Patron Billing Statement by Patron Barcode" (Notices -
    # Overdue report folder): patron barcode, name, address, charges, total.
    Template("polaris-billing-statement", "polaris", "test", "polaris-reports", "Patron Billing Statement by Patron Barcode",
             "Patron Billing Statement",
             "PATRON BILLING STATEMENT                        {d.us}\n{lib.name}\n\nPatron barcode: {p.card}\n{p.name}\n"
             "{p.address}\n{p.city_line}\n\nDate        Fee reason        Item                                  Amount\n{items}"
             "\nBalance owed: ${p.owed}\n",
             item="{i.due_us}  Overdue item      {i.title_cut:<37} ${i.fine}\n",
             categories=("name", "card_number", "address", "titles", "money_owed"), placeholders=POLARIS),
    # ============================================================ Symphony (dev)
    # Symphony New Overdue Notices report, first notice: library address,
    # user address block, the heading the docs quote ("1ST OVERDUE NOTICE"),
    # our message text, per charge title / author, call number, ID, due.
    Template("symphony-overdue-1", "symphony", "dev", "symphony-notices", "New Overdue Notices, 1ST OVERDUE NOTICE",
             "1ST OVERDUE NOTICE",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n\n\n{p.name}\n{p.address}\n{p.city_line}\n\n"
             "                                              {d.us}\n\n1ST OVERDUE NOTICE\n\n"
             "Our records show these library materials have not come back. Please return them soon.\n\n{items}",
             item="  {n}   {i.title} / {i.author}\n      call number:{i.call}      ID:{i.barcode}\n      due:{i.due_us}\n\n",
             categories=("name", "address", "titles"), placeholders=SYMPHONY),
    # Symphony flat user record (NOTES.md §2): DOCUMENT BOUNDARY, FORM=LDUSER,
    # .FIELD.   |avalue lines.
    Template("symphony-flat-user", "symphony", "dev", "symphony-records", "flat user record (LDUSER)", "user export",
             "*** DOCUMENT BOUNDARY ***\nFORM=LDUSER\n.USER_ID.   |a{p.card}\n.USER_NAME.   |a{p.last_first}\n"
             ".USER_FIRST_NAME.   |a{p.first}\n.USER_LAST_NAME.   |a{p.last}\n.USER_LIBRARY.   |a{lib.short}\n"
             ".USER_PROFILE.   |aADULT\n.USER_BIRTH_DATE.   |a{p.dob_compact}\n.USER_PRIV_EXPIRES.   |a{until.compact}\n"
             ".USER_ADDR1_BEGIN.\n.STREET.   |a{p.address}\n.CITY/STATE.   |a{p.city}, OR\n.ZIP.   |a{p.zip}\n"
             ".PHONE.   |a{p.phone}\n.EMAIL.   |a{p.email}\n.USER_ADDR1_END.\n"
             ".NOTE.   |aMoved from Keizer; verified new address with lease\n",
             categories=("name", "card_number", "birth_date", "address", "phone", "email", "notes"), placeholders=SYMPHONY),
    # Symphony hold available notice (notice report): address block, heading,
    # message, per hold title / author, pickup library, pickup by.
    Template("symphony-hold-available", "symphony", "dev", "symphony-notices", "Hold available notice", "HOLD AVAILABLE",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n\n{p.name}\n{p.address}\n{p.city_line}\n\n{d.us}\n\nHOLD AVAILABLE\n\n"
             "The item(s) you reserved are ready. Please pick them up at the library shown by the date listed.\n\n{items}",
             item="  {i.title} / {i.author}\n      pickup library:{lib.short}    pickup by:{until.us}\n\n",
             categories=("name", "address", "holds", "titles"), placeholders=SYMPHONY),
    # ============================================================ Symphony (test)
    # Symphony overdue notices, third level ("FINAL NOTICE" in the docs):
    # address block, heading, message, charges, user ID.
    Template("symphony-final-notice", "symphony", "test", "symphony-notices", "New Overdue Notices, FINAL NOTICE", "FINAL NOTICE",
             "{lib.name}\n{lib.street}\n{lib.city_line}\n\n{p.name}\n{p.address}\n{p.city_line}\n\nUser ID: {p.card}\n{d.us}\n\n"
             "FINAL NOTICE\n\nThis is our last reminder before these materials are billed to you at their replacement cost and your\n"
             "account is referred to our collection service.\n\n{items}",
             item="  {i.title} / {i.author}\n      call number:{i.call}   ID:{i.barcode}   due:{i.due_us}   amount:${i.price}\n\n",
             categories=("name", "address", "card_number", "titles", "money_owed"), placeholders=SYMPHONY),
    # Symphony Generalized Bill Notices (Bill Notice tab: salutation, messages,
    # bill list, Total Bills for Each User, closing text).
    Template("symphony-bill-notice", "symphony", "test", "symphony-notices", "Generalized Bill Notices", "BILL NOTICE",
             "{lib.name}\n{lib.city_line}\n\n{p.name}\n{p.address}\n{p.city_line}\n\n{d.us}\n\nDear {p.name}:\n\nBILL NOTICE\n\n"
             "Our records show the following charges on your library account.\n\n{items}"
             "      Total bills for user: ${p.owed}\n\nPlease pay at any branch or online.\n",
             item="  {i.title} / {i.author}\n      reason:LOST        billed:{i.due_us}   amount:${i.price}\n",
             categories=("name", "address", "titles", "money_owed"), placeholders=SYMPHONY),
    # Symphony flat user record with its charges and bills sections
    # (NOTES.md §2: bills as .BILL_AMOUNT.   |a$39.95).
    Template("symphony-flat-bills", "symphony", "test", "symphony-records", "flat user record with bills", "user and bills export",
             "*** DOCUMENT BOUNDARY ***\nFORM=LDUSER\n.USER_ID.   |a{p.card}\n.USER_FIRST_NAME.   |a{p.first}\n"
             ".USER_LAST_NAME.   |a{p.last}\n.USER_BIRTH_DATE.   |a{p.dob_compact}\n.STREET.   |a{p.address}\n"
             ".CITY/STATE.   |a{p.city}, OR\n.ZIP.   |a{p.zip}\n.PHONE.   |a{p.phone}\n{items}",
             item="*** DOCUMENT BOUNDARY ***\nFORM=LDBILL\n.BILL_USER_ID.   |a{p.card}\n.BILL_ITEM_ID.   |a{i.barcode}\n"
                  ".BILL_TITLE.   |a{i.title}\n.BILL_REASON.   |aLOST\n.BILL_AMOUNT.   |a${i.price}\n",
             categories=("name", "card_number", "birth_date", "address", "phone", "titles", "money_owed"), placeholders=SYMPHONY),
    # ============================================================ Spanish, Vietnamese, Russian notices
    # Koha ODUE layout in Spanish (the layout of the English notice above,
    # written in Spanish as Spanish-speaking libraries send it).
    Template("es-aviso-atraso", "multilingual", "dev", "koha-sample-notices", "ODUE (es)", "Aviso de atraso",
             "Estimado/a {p.first} {p.last}:\n\nSegún nuestros registros, tiene materiales con la fecha de devolución vencida. "
             "Le pedimos que los devuelva o los renueve en la biblioteca lo antes posible.\n\n"
             "{lib.name}\n{lib.street}\n{lib.city_line}\nTeléfono: {lib.phone}\n\nMateriales atrasados:\n\n{items}\n"
             "Multas acumuladas: ${fines}\nTarjeta: {p.card}\n\nGracias por su atención.\nPersonal de {lib.name}\n",
             item='"{i.title}" de {i.author}, {i.call}, Código de barras: {i.barcode}, Vence: {i.due_us}\n',
             categories=("name", "titles", "money_owed", "card_number"), lang="es", placeholders=KOHA),
    # Patron record screen with Spanish labels (a Koha staff client in
    # Spanish: Usuario, Tarjeta, Dirección, Teléfono, Correo, Multas).
    Template("es-ficha-usuario", "multilingual", "dev", "koha-sample-notices", "ficha de usuario (es)", "Ficha de usuario",
             "Usuario:          {p.last}, {p.first}\nTarjeta:          {p.card}\nDirección:        {p.address}\n"
             "Ciudad:           {p.city_line}\nTeléfono:         {p.phone}\nCorreo:           {p.email}\n"
             "Fecha de nacimiento: {p.dob_us}\nMultas:           ${p.owed}\nPréstamos:        {count}\n"
             "Nota:             pidió que no se llame al número de su trabajo\n",
             categories=("name", "card_number", "address", "phone", "email", "birth_date", "money_owed", "notes"),
             lang="es", placeholders=KOHA),
    # Koha HOLD layout in Vietnamese.
    Template("vi-thong-bao-giu-sach", "multilingual", "dev", "koha-sample-notices", "HOLD (vi)", "Thông báo sách đặt trước",
             "Kính gửi {p.first} {p.last},\n\nSách quý vị đặt trước đã có tại thư viện từ ngày {d.us}:\n\n{items}"
             "Số thẻ thư viện: {p.card}\nĐiện thoại: {p.phone}\n\n{lib.name}\n",
             item="Tựa sách: {i.title}\nTác giả: {i.author}\n\n",
             categories=("name", "holds", "titles", "card_number", "phone"), lang="vi", placeholders=KOHA),
    # Koha HOLD layout in Spanish ("su reserva").
    Template("es-reserva-lista", "multilingual", "test", "koha-sample-notices", "HOLD (es)", "Su reserva está lista",
             "Hola {p.first} {p.last}:\n\nSu reserva ya llegó y la puede recoger en {lib.name} desde el {d.es}. "
             "La guardamos hasta el {until.es}.\n\n{items}Número de tarjeta: {p.card}\nDirección registrada: {p.one_line_address}\n\n"
             "Saludos,\n{lib.name}\n",
             item="Título: {i.title}\nAutor: {i.author}\n\n",
             categories=("name", "holds", "titles", "card_number", "address"), lang="es", placeholders=KOHA),
    # Evergreen bills layout in Spanish (Multas / Saldo).
    Template("es-estado-multas", "multilingual", "test", "evergreen-seed", "bills_current (es)", "Estado de cuenta",
             "Estado de cuenta de {p.first} {p.last}\nTarjeta de biblioteca: {p.card}\nTeléfono: {p.phone}\n\n"
             "Multas y cargos pendientes:\n{items}\nSaldo total: ${p.owed}\n\nAtendido por {s.first} en {lib.name}\n",
             item="  Factura n.º {i.barcode} - {i.title} - Multa: ${i.fine}\n",
             categories=("name", "card_number", "phone", "titles", "money_owed"), lang="es", placeholders=EVERGREEN),
    # Evergreen overdue layout in Russian.
    Template("ru-uvedomlenie", "multilingual", "test", "evergreen-seed", "7 Day Overdue (ru)", "Уведомление о просрочке",
             "Уважаемый(ая) {p.native_or_name},\nпо нашим данным, срок возврата этих изданий истёк.\n\n{items}"
             "Читательский билет: {p.card}\nТелефон: {p.phone}\nЗадолженность: ${fines}\n",
             item="    Название: {i.title}\n    Автор: {i.author}\n    Штрихкод: {i.barcode}\n    Срок: {i.due_iso}\n\n",
             categories=("name", "titles", "card_number", "phone", "money_owed"), lang="ru", placeholders=EVERGREEN),
]


def by_id() -> dict[str, Template]:
    return {t.id: t for t in TEMPLATES}
