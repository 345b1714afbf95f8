"""Alert payloads in the shapes their senders document: Prometheus Alertmanager's webhook
(version 4, https://prometheus.io/docs/alerting/latest/configuration/#webhook_config) and
Grafana alerting's webhook contact point (https://grafana.com/docs/grafana/latest/alerting/
configure-notifications/manage-contact-points/integrations/webhook-notifier/)."""

from __future__ import annotations

from typing import Any

NO_END = "0001-01-01T00:00:00Z"


def alertmanager(status: str = "firing", *, model: str = "chat",
                 fingerprint: str = "c6f1b0d5a2e3f4a1", starts: str = "2026-03-10T11:52:00Z",
                 name: str = "AnswerQualityLow", label: str = "model") -> dict[str, Any]:
    labels = {"alertname": name, label: model, "severity": "page"}
    annotations = {"summary": "thumbs-down rate above 20% for 5m",
                   "runbook_url": "https://wiki/runbooks/answer-quality"}
    return {
        "version": "4",
        "groupKey": '{}/{severity="page"}:{alertname="' + name + '"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "playbook",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.internal:9093",
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "startsAt": starts,
            "endsAt": NO_END if status == "firing" else "2026-03-10T12:30:00Z",
            "generatorURL": "http://prometheus.internal:9090/graph?g0.expr=thumbs_down_rate",
            "fingerprint": fingerprint,
        }],
    }


def grafana(status: str = "firing", *, model: str = "chat",
            fingerprint: str = "57c6d9296de2ad39",
            starts: str = "2026-03-10T11:50:00Z") -> dict[str, Any]:
    labels = {"alertname": "LatencyHigh", "grafana_folder": "ML", "model": model}
    return {
        "receiver": "playbook",
        "status": status,
        "orgId": 1,
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": {"summary": "p95 latency above 2 s", "description": "for 10m"},
            "startsAt": starts,
            "endsAt": NO_END if status == "firing" else "2026-03-10T12:40:00Z",
            "generatorURL": "http://grafana.internal:3000/alerting/grafana/abc/view",
            "fingerprint": fingerprint,
            "silenceURL": "http://grafana.internal:3000/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "http://grafana.internal:3000/d/xyz",
            "panelURL": "http://grafana.internal:3000/d/xyz?viewPanel=2",
            "imageURL": "",
            "values": {"B": 2.4},
            "valueString": "[ var='B' labels={model=" + model + "} value=2.4 ]",
        }],
        "groupLabels": {"alertname": "LatencyHigh"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "p95 latency above 2 s"},
        "externalURL": "http://grafana.internal:3000/",
        "version": "1",
        "groupKey": '{}:{alertname="LatencyHigh"}',
        "truncatedAlerts": 0,
        "title": f"[{status.upper()}:1] LatencyHigh ML ({model})",
        "state": "alerting" if status == "firing" else "ok",
        "message": "**Firing**\n\nValue: B=2.4",
    }
