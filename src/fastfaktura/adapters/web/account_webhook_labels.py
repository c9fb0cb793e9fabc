"""The words of the account page's webhook endpoints section, per language (kept apart from
account_labels.py, which adapters/web/account.py merges them into)."""

from __future__ import annotations

from typing import Final

WEBHOOK_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "webhooks_intro": "Each event of the business is sent as a signed POST to the endpoints"
        " that asked for its type.",
        "webhook_url": "URL",
        "webhook_events": "Events",
        "webhook_all_events": "All events",
        "webhook_description": "Description",
        "create_webhook": "Add the endpoint",
        "new_webhook_secret": "The new endpoint's signing secret: copy it now, it will not be"
        " shown again.",
        "webhook_enabled": "Enabled",
        "webhook_disabled": "Disabled",
        "delete": "Delete",
        "delete_webhook": "Delete the endpoint",
        "no_webhooks": "No webhook endpoint yet.",
        "webhook_deleted": "The endpoint is deleted.",
    },
    "fr": {
        "webhooks_intro": "Chaque événement de l'entreprise est envoyé en POST signé aux points"
        " de terminaison qui ont demandé son type.",
        "webhook_url": "URL",
        "webhook_events": "Événements",
        "webhook_all_events": "Tous les événements",
        "webhook_description": "Description",
        "create_webhook": "Ajouter le point de terminaison",
        "new_webhook_secret": "Le secret de signature du nouveau point de terminaison : copiez-le"
        " maintenant, il ne sera plus affiché.",
        "webhook_enabled": "Actif",
        "webhook_disabled": "Désactivé",
        "delete": "Supprimer",
        "delete_webhook": "Supprimer le point de terminaison",
        "no_webhooks": "Aucun point de terminaison webhook pour l'instant.",
        "webhook_deleted": "Le point de terminaison est supprimé.",
    },
    "nb": {
        "webhooks_intro": "Hver hendelse i virksomheten sendes som en signert POST til"
        " endepunktene som ba om typen.",
        "webhook_url": "URL",
        "webhook_events": "Hendelser",
        "webhook_all_events": "Alle hendelser",
        "webhook_description": "Beskrivelse",
        "create_webhook": "Legg til endepunktet",
        "new_webhook_secret": "Signeringshemmeligheten til det nye endepunktet: kopier den nå,"
        " den vises ikke igjen.",
        "webhook_enabled": "Aktiv",
        "webhook_disabled": "Deaktivert",
        "delete": "Slett",
        "delete_webhook": "Slett endepunktet",
        "no_webhooks": "Ingen webhook-endepunkter ennå.",
        "webhook_deleted": "Endepunktet er slettet.",
    },
    "sv": {
        "webhooks_intro": "Varje händelse i företaget skickas som en signerad POST till de"
        " slutpunkter som bad om dess typ.",
        "webhook_url": "URL",
        "webhook_events": "Händelser",
        "webhook_all_events": "Alla händelser",
        "webhook_description": "Beskrivning",
        "create_webhook": "Lägg till slutpunkten",
        "new_webhook_secret": "Den nya slutpunktens signeringshemlighet: kopiera den nu, den"
        " visas inte igen.",
        "webhook_enabled": "Aktiv",
        "webhook_disabled": "Inaktiverad",
        "delete": "Ta bort",
        "delete_webhook": "Ta bort slutpunkten",
        "no_webhooks": "Inga webhook-slutpunkter ännu.",
        "webhook_deleted": "Slutpunkten har tagits bort.",
    },
}
