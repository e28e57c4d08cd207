"""deploy/ is validated with the tools this machine has, and speaks our settings' names.

``kubectl apply --dry-run=client`` needs an API server to map kinds, and
none can run here; the manifests are checked offline instead, against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown fields fail)
and with ``kubectl kustomize`` where kubectl is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from backlinkspider import settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
KNOWN = {name for name in dir(settings) if name.isupper()}


def _manifests():
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                yield path.name, doc


def test_compose_file_is_valid():
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    done = subprocess.run(
        ["docker-compose", "-f", str(DEPLOY / "docker-compose.yml"), "config", "-q"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_compose_scales_workers_on_redis_with_aof_and_mongodb_8():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["mongo"]["image"].startswith("mongo:8")
    assert "--appendonly" in services["redis"]["command"]
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker  # --scale worker=N needs both absent
    assert set(worker["environment"]) <= KNOWN, set(worker["environment"]) - KNOWN


def test_kubernetes_manifests_match_the_schemas():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kinds = set()
    for _name, doc in _manifests():
        kubernetes_validate.validate(doc, "1.30.0", strict=True)
        kinds.add(doc["kind"])
    assert {"Deployment", "StatefulSet", "Service", "ConfigMap", "CronJob", "NetworkPolicy"} <= kinds


def test_kubernetes_config_sets_only_known_settings():
    config = next(doc for _, doc in _manifests() if doc["kind"] == "ConfigMap")
    assert set(config["data"]) <= KNOWN, set(config["data"]) - KNOWN
    assert config["data"]["REDIS_URL"].startswith("redis://")


def test_kustomize_builds():
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    done = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(re.findall(r"^kind: ", done.stdout, re.M)) == len(list(_manifests()))  # every one, once


def test_network_policies_let_crawlers_reach_the_store_dns_and_the_public_internet_only():
    policies = {doc["metadata"]["name"]: doc["spec"] for _, doc in _manifests() if doc["kind"] == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    egress = policies["crawler-egress"]["egress"]
    internet = next(rule for rule in egress if "ipBlock" in rule["to"][0])
    blocked = {cidr for block in internet["to"] for cidr in block["ipBlock"]["except"]}
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "fc00::/7"} <= blocked
    reached = {
        rule["to"][0].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") for rule in egress
    }
    assert {"redis", "mongodb"} <= reached
    for store in ("redis-ingress", "mongodb-ingress"):
        [source] = policies[store]["ingress"][0]["from"]
        assert source["podSelector"]["matchExpressions"][0]["values"] == ["worker", "recrawl"]


def test_recrawl_cronjob_runs_the_monitoring_crawl():
    cron = next(doc for _, doc in _manifests() if doc["kind"] == "CronJob")
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["sh", "-c"]
    # the monitoring crawl, then domain authority of the refreshed graph, only if the crawl succeeded
    assert container["command"][2] == ("scrapy crawl backlinks -a recrawl=1 -a check_targets=1 && exec backlinks rank")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert int(next(e["value"] for e in container["env"] if e["name"] == "MAX_IDLE_TIME_BEFORE_CLOSE")) > 0


def test_systemd_units_verify(tmp_path):
    """``systemd-analyze verify`` on the recrawl units, with the venv path pointed at this one."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    scrapy = Path(sys.executable).with_name("scrapy")
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/backlinkspider/.venv/bin/", f"{scrapy.parent}/")
        (tmp_path / unit.name).write_text(text)
    service = (DEPLOY / "systemd" / "backlinkspider-recrawl.service").read_text()
    assert "-a recrawl=1 -a check_targets=1" in service
    assert "\nExecStartPost=/opt/backlinkspider/.venv/bin/backlinks rank\n" in service
    done = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
