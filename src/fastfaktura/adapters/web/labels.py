"""The public page's words, per client locale (API.md: fr, en, nb, sv).

Every locale has exactly the same keys (a test checks it); the template reads them through
StrictUndefined, so a missing word is an error, never a blank.
"""

from __future__ import annotations

from typing import Final

LOCALES: Final = ("fr", "en", "nb", "sv")
DEFAULT_LOCALE: Final = "en"

LABELS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "invoice": "Facture",
        "number": "N° de facture",
        "issue_date": "Date d'émission",
        "due_date": "Échéance",
        "seller": "Fournisseur",
        "buyer": "Client",
        "vat_number": "N° de TVA",
        "company_id": "N° d'identification",
        "email": "E-mail",
        "phone": "Téléphone",
        "description": "Désignation",
        "quantity": "Quantité",
        "unit_price": "Prix unitaire HT",
        "vat_rate": "Taux de TVA",
        "net": "Montant HT",
        "vat_breakdown": "Récapitulatif de la TVA",
        "rate": "Taux",
        "base": "Base HT",
        "tax": "Montant TVA",
        "subtotal": "Total HT",
        "vat": "TVA",
        "total": "Total TTC",
        "amount_paid": "Déjà réglé",
        "amount_due": "Montant dû",
        "status": "Statut",
        "notes": "Remarques",
        "payment_details": "Coordonnées bancaires",
        "iban": "IBAN",
        "bic": "BIC",
        "download_pdf": "Télécharger la facture (PDF)",
        "notice_paid": "Cette facture a été intégralement réglée.",
        "notice_cancelled": "Cette facture a été annulée. Aucun paiement n'est dû.",
        "notice_overdue": "La date d'échéance de cette facture est dépassée.",
        "pay_by_card": "Payer par carte",
        "pay_now": "Payer",
        "card_processing": "Paiement en cours…",
        "card_succeeded": "Paiement reçu, merci.",
        "card_failed": "Le paiement n'a pas abouti. Vérifiez votre carte et réessayez.",
        "not_found_title": "Facture introuvable",
        "not_found_text": (
            "Ce lien ne correspond à aucune facture. Vérifiez l'adresse reçue ou contactez "
            "l'émetteur de la facture."
        ),
    },
    "en": {
        "invoice": "Invoice",
        "number": "Invoice number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "seller": "From",
        "buyer": "Bill to",
        "vat_number": "VAT number",
        "company_id": "Company number",
        "email": "Email",
        "phone": "Phone",
        "description": "Description",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "vat_rate": "VAT rate",
        "net": "Net amount",
        "vat_breakdown": "VAT breakdown",
        "rate": "Rate",
        "base": "Taxable amount",
        "tax": "VAT",
        "subtotal": "Subtotal",
        "vat": "VAT",
        "total": "Total",
        "amount_paid": "Amount paid",
        "amount_due": "Amount due",
        "status": "Status",
        "notes": "Notes",
        "payment_details": "Payment details",
        "iban": "IBAN",
        "bic": "BIC",
        "download_pdf": "Download the invoice (PDF)",
        "notice_paid": "This invoice has been paid in full.",
        "notice_cancelled": "This invoice has been cancelled. Nothing is due.",
        "notice_overdue": "This invoice is past its due date.",
        "pay_by_card": "Pay by card",
        "pay_now": "Pay",
        "card_processing": "Processing the payment…",
        "card_succeeded": "Payment received, thank you!",
        "card_failed": "The payment did not go through. Check your card and try again.",
        "not_found_title": "Invoice not found",
        "not_found_text": (
            "This link does not lead to an invoice. Check the address you received, or contact "
            "the sender of the invoice."
        ),
    },
    "nb": {
        "invoice": "Faktura",
        "number": "Fakturanummer",
        "issue_date": "Fakturadato",
        "due_date": "Forfallsdato",
        "seller": "Selger",
        "buyer": "Kjøper",
        "vat_number": "MVA-nummer",
        "company_id": "Org.nr.",
        "email": "E-post",
        "phone": "Telefon",
        "description": "Beskrivelse",
        "quantity": "Antall",
        "unit_price": "Enhetspris",
        "vat_rate": "MVA-sats",
        "net": "Beløp eks. MVA",
        "vat_breakdown": "MVA-spesifikasjon",
        "rate": "Sats",
        "base": "Grunnlag",
        "tax": "MVA",
        "subtotal": "Sum eks. MVA",
        "vat": "MVA",
        "total": "Totalt",
        "amount_paid": "Innbetalt",
        "amount_due": "Å betale",
        "status": "Status",
        "notes": "Merknader",
        "payment_details": "Betalingsinformasjon",
        "iban": "IBAN",
        "bic": "BIC",
        "download_pdf": "Last ned fakturaen (PDF)",
        "notice_paid": "Denne fakturaen er betalt.",
        "notice_cancelled": "Denne fakturaen er annullert. Det er ingenting å betale.",
        "notice_overdue": "Forfallsdatoen for denne fakturaen er passert.",
        "pay_by_card": "Betal med kort",
        "pay_now": "Betal",
        "card_processing": "Behandler betalingen…",
        "card_succeeded": "Betalingen er mottatt. Takk!",
        "card_failed": "Betalingen gikk ikke gjennom. Kontroller kortet og prøv igjen.",
        "not_found_title": "Fant ikke fakturaen",
        "not_found_text": (
            "Lenken viser ikke til noen faktura. Kontroller adressen du fikk, eller kontakt "
            "avsenderen av fakturaen."
        ),
    },
    "sv": {
        "invoice": "Faktura",
        "number": "Fakturanummer",
        "issue_date": "Fakturadatum",
        "due_date": "Förfallodatum",
        "seller": "Säljare",
        "buyer": "Köpare",
        "vat_number": "Momsreg.nr",
        "company_id": "Org.nr",
        "email": "E-post",
        "phone": "Telefon",
        "description": "Beskrivning",
        "quantity": "Antal",
        "unit_price": "À-pris",
        "vat_rate": "Momssats",
        "net": "Belopp exkl. moms",
        "vat_breakdown": "Momsspecifikation",
        "rate": "Momssats",
        "base": "Underlag",
        "tax": "Moms",
        "subtotal": "Summa exkl. moms",
        "vat": "Moms",
        "total": "Totalt",
        "amount_paid": "Inbetalt",
        "amount_due": "Att betala",
        "status": "Status",
        "notes": "Övrig information",
        "payment_details": "Betalningsinformation",
        "iban": "IBAN",
        "bic": "BIC",
        "download_pdf": "Ladda ner fakturan (PDF)",
        "notice_paid": "Fakturan är betald.",
        "notice_cancelled": "Fakturan är makulerad. Det finns inget att betala.",
        "notice_overdue": "Fakturans förfallodatum har passerat.",
        "pay_by_card": "Betala med kort",
        "pay_now": "Betala",
        "card_processing": "Betalningen behandlas…",
        "card_succeeded": "Betalningen är mottagen. Tack!",
        "card_failed": "Betalningen gick inte igenom. Kontrollera kortet och försök igen.",
        "not_found_title": "Fakturan hittades inte",
        "not_found_text": (
            "Länken leder inte till någon faktura. Kontrollera adressen du fick eller kontakta "
            "fakturans avsändare."
        ),
    },
}

# The lifecycle statuses (API.md), as the client reads them on the public page (issue 17):
# what the client has to do, not what the seller's system recorded ("Awaiting payment", never
# "Opened").
STATUS_LABELS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "draft": "Brouillon",
        "sent": "En attente de paiement",
        "opened": "En attente de paiement",
        "overdue": "Paiement en retard",
        "paid": "Payée",
        "cancelled": "Annulée",
    },
    "en": {
        "draft": "Draft",
        "sent": "Awaiting payment",
        "opened": "Awaiting payment",
        "overdue": "Payment overdue",
        "paid": "Paid",
        "cancelled": "Cancelled",
    },
    "nb": {
        "draft": "Utkast",
        "sent": "Venter på betaling",
        "opened": "Venter på betaling",
        "overdue": "Betalingen er forfalt",
        "paid": "Betalt",
        "cancelled": "Annullert",
    },
    "sv": {
        "draft": "Utkast",
        "sent": "Väntar på betalning",
        "opened": "Väntar på betalning",
        "overdue": "Betalningen är försenad",
        "paid": "Betald",
        "cancelled": "Makulerad",
    },
}

# The public pages' error pages other than "not found" (API.md "Limits and availability": the
# public pages answer HTML in every case): per locale, per kind, (title, text).
ERROR_PAGE_LABELS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "fr": {
        "unavailable": (
            "Service momentanément indisponible",
            "La facture ne peut pas être affichée pour le moment. Réessayez dans quelques "
            "instants.",
        ),
        "too_many_requests": (
            "Trop de requêtes",
            "Trop de pages ont été demandées en peu de temps. Réessayez dans quelques instants.",
        ),
        "error": (
            "Une erreur est survenue",
            "La facture ne peut pas être affichée. Réessayez plus tard ou contactez l'émetteur "
            "de la facture.",
        ),
    },
    "en": {
        "unavailable": (
            "Service temporarily unavailable",
            "The invoice cannot be shown right now. Please try again in a few moments.",
        ),
        "too_many_requests": (
            "Too many requests",
            "Too many pages were requested in a short time. Please try again in a few moments.",
        ),
        "error": (
            "Something went wrong",
            "The invoice cannot be shown. Try again later, or contact the sender of the invoice.",
        ),
    },
    "nb": {
        "unavailable": (
            "Tjenesten er midlertidig utilgjengelig",
            "Fakturaen kan ikke vises akkurat nå. Prøv igjen om et øyeblikk.",
        ),
        "too_many_requests": (
            "For mange forespørsler",
            "For mange sider ble hentet på kort tid. Prøv igjen om et øyeblikk.",
        ),
        "error": (
            "Noe gikk galt",
            "Fakturaen kan ikke vises. Prøv igjen senere, eller kontakt avsenderen av fakturaen.",
        ),
    },
    "sv": {
        "unavailable": (
            "Tjänsten är tillfälligt otillgänglig",
            "Fakturan kan inte visas just nu. Försök igen om en liten stund.",
        ),
        "too_many_requests": (
            "För många förfrågningar",
            "För många sidor begärdes på kort tid. Försök igen om en liten stund.",
        ),
        "error": (
            "Något gick fel",
            "Fakturan kan inte visas. Försök igen senare eller kontakta fakturans avsändare.",
        ),
    },
}

# -- credit notes (issue 13) ----------------------------------------------------------------
# The words of a credit note's PDF and public page, on top of LABELS. `{number}` and `{date}`
# are the credited invoice's number and issue date (BT-25, BT-26); `{amount}` is money.
CREDIT_NOTE_LABELS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "credit_note": "Avoir",
        "credit_note_number": "N° d'avoir",
        "refers_to": "Avoir relatif à la facture {number} du {date}",
        "refers_to_undated": "Avoir relatif à la facture {number}",
        "original_invoice": "Facture d'origine",
        "reason": "Motif",
        "total_credited": "Total de l'avoir TTC",
        "refund_due": "Montant à rembourser",
        "deducted_from": "Ce montant vient en déduction de la facture {number}.",
        "download_credit_note": "Télécharger l'avoir (PDF)",
    },
    "en": {
        "credit_note": "Credit note",
        "credit_note_number": "Credit note number",
        "refers_to": "Credit note for invoice {number} of {date}",
        "refers_to_undated": "Credit note for invoice {number}",
        "original_invoice": "Original invoice",
        "reason": "Reason",
        "total_credited": "Total credited",
        "refund_due": "Refund due",
        "deducted_from": "This amount is deducted from invoice {number}.",
        "download_credit_note": "Download the credit note (PDF)",
    },
    "nb": {
        "credit_note": "Kreditnota",
        "credit_note_number": "Kreditnotanummer",
        "refers_to": "Kreditnota for faktura {number} datert {date}",
        "refers_to_undated": "Kreditnota for faktura {number}",
        "original_invoice": "Opprinnelig faktura",
        "reason": "Årsak",
        "total_credited": "Totalt kreditert",
        "refund_due": "Til tilbakebetaling",
        "deducted_from": "Beløpet går til fradrag i faktura {number}.",
        "download_credit_note": "Last ned kreditnotaen (PDF)",
    },
    "sv": {
        "credit_note": "Kreditfaktura",
        "credit_note_number": "Kreditfakturanummer",
        "refers_to": "Kreditfaktura avseende faktura {number} daterad {date}",
        "refers_to_undated": "Kreditfaktura avseende faktura {number}",
        "original_invoice": "Ursprunglig faktura",
        "reason": "Orsak",
        "total_credited": "Totalt krediterat",
        "refund_due": "Att återbetala",
        "deducted_from": "Beloppet dras av från faktura {number}.",
        "download_credit_note": "Ladda ner kreditfakturan (PDF)",
    },
}
