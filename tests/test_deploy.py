"""deploy/ is validated with the tools this machine has, and speaks our settings' names.

``kubectl apply --dry-run=client`` needs an API server to map kinds, and
none can run here; the manifests are checked offline instead, against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown fields fail)
and with ``kubectl kustomize`` where kubectl is installed.
"""

from __future__ import annotations

import json
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


def _pod_specs():
    """(name, pod spec) of every workload."""
    for _name, doc in _manifests():
        spec = doc.get("spec", {})
        if doc["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            yield doc["metadata"]["name"], spec["template"]["spec"]


def _memory(text: str) -> int:
    """Bytes of a Kubernetes quantity (4Gi), a compose size (4g: Docker's units are binary) or a Redis size
    (2800mb)."""
    number, unit = re.fullmatch(r"([\d.]+)\s*([a-zA-Z]*)", text).groups()
    scale = {"": 1, "k": 2**10, "kb": 2**10, "m": 2**20, "mb": 2**20, "g": 2**30, "gb": 2**30, "ki": 2**10,
             "mi": 2**20, "gi": 2**30}  # fmt: skip
    return int(float(number) * scale[unit.lower()])


def _option(args: list[str] | str, name: str) -> str:
    words = args.split() if isinstance(args, str) else args
    return words[words.index(name) + 1]


@pytest.fixture
def compose_dir(tmp_path):
    """deploy/ copied, with the .env README's first step makes (deploy/make-secrets env)."""
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy, ignore=shutil.ignore_patterns(".env"))
    done = subprocess.run(["sh", str(copy / "make-secrets"), "env"], capture_output=True, text=True, check=True)
    assert "wrote" in done.stderr
    return copy


def test_compose_file_is_valid_with_the_generated_env_and_refuses_without(compose_dir, tmp_path):
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    compose = ["docker-compose", "-f", str(compose_dir / "docker-compose.yml"), "config"]
    done = subprocess.run(compose, capture_output=True, text=True, cwd=tmp_path)  # not the file's folder
    assert done.returncode == 0, done.stderr
    env = dict(line.split("=", 1) for line in (compose_dir / ".env").read_text().splitlines() if "=" in line)
    assert set(env) == {"REDIS_PASSWORD", "REDIS_WORKER_PASSWORD", "MONGO_ROOT_PASSWORD", "MONGO_APP_PASSWORD"}
    assert all(re.fullmatch(r"[0-9a-f]{48}", value) for value in env.values())
    assert oct((compose_dir / ".env").stat().st_mode & 0o777) == "0o600"
    config = yaml.safe_load(done.stdout)
    worker = config["services"]["worker"]["environment"]
    assert worker["REDIS_URL"] == f"redis://worker:{env['REDIS_WORKER_PASSWORD']}@redis:6379/0"
    assert worker["MONGO_URI"].startswith(f"mongodb://backlinks:{env['MONGO_APP_PASSWORD']}@mongo:27017/")
    assert env["REDIS_PASSWORD"] not in json.dumps(worker) and env["MONGO_ROOT_PASSWORD"] not in json.dumps(worker)
    # A second run keeps the passwords MongoDB's volume was made with.
    again = subprocess.run(["sh", str(compose_dir / "make-secrets"), "env"], capture_output=True, text=True)
    assert again.returncode == 1 and "exists" in again.stderr
    (compose_dir / ".env").unlink()
    refused = subprocess.run(compose, capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode != 0 and "make-secrets" in refused.stderr


def test_compose_scales_workers_on_redis_with_aof_and_mongodb_8():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["mongo"]["image"].startswith("mongo:8")
    redis = services["redis"]["command"][2]
    assert "--appendonly yes" in redis
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker  # --scale worker=N needs both absent
    assert set(worker["environment"]) - {"HOME", "XDG_DATA_HOME"} <= KNOWN, set(worker["environment"]) - KNOWN


def test_compose_has_passwords_limits_and_no_eviction():
    services = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]
    redis = services["redis"]
    assert "requirepass" in redis["command"][2] and "user worker on" in redis["command"][2]
    assert "--requirepass" not in redis["command"][2]  # not on the command line, which any local user can read
    assert _option(redis["command"][2], "--maxmemory-policy") == "noeviction"
    assert _memory(_option(redis["command"][2], "--maxmemory")) < 0.8 * _memory(redis["mem_limit"])
    mongo = services["mongo"]
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_ROOT_PASSWORD:?")
    cache = float(_option(mongo["command"], "--wiredTigerCacheSizeGB")) * 2**30
    assert cache <= 0.5 * (_memory(mongo["mem_limit"]) - 2**30) + 1
    assert "./mongo-init:/docker-entrypoint-initdb.d:ro" in mongo["volumes"]
    for name, service in services.items():
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+", service["image"]), f"{name}: image not pinned to a version"
        assert "mem_limit" in service, name
        assert "no-new-privileges:true" in service["security_opt"], name
    worker = services["worker"]
    assert worker["read_only"] and worker["cap_drop"] == ["ALL"]
    for line in (DEPLOY / "docker-compose.yml").read_text().splitlines():  # passwords only as ${…} from .env
        assert not re.search(r"(?i)pass(word)?\s*[:=]\s*[^$\s{]", line) or "${" in line, line


def test_kubernetes_manifests_match_the_schemas():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kinds = set()
    for _name, doc in _manifests():
        kubernetes_validate.validate(doc, "1.30.0", strict=True)
        kinds.add(doc["kind"])
    assert {"Deployment", "StatefulSet", "Service", "ConfigMap", "CronJob", "NetworkPolicy"} <= kinds


def test_kubernetes_config_sets_only_known_settings_and_no_secrets():
    config = next(doc for _, doc in _manifests() if doc["metadata"]["name"] == "backlinkspider")
    assert set(config["data"]) <= KNOWN, set(config["data"]) - KNOWN
    assert not {"REDIS_URL", "MONGO_URI"} & set(config["data"])
    assert not any(kind == "Secret" for kind in (doc["kind"] for _, doc in _manifests()))  # none committed


def _secret_refs(container: dict) -> dict[str, str]:
    return {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in container.get("env", []) if "valueFrom" in e}


def test_kubernetes_credentials_come_from_the_generated_secret():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    made = subprocess.run(["sh", str(DEPLOY / "make-secrets"), "k8s"], capture_output=True, text=True, check=True)
    secret = yaml.safe_load(made.stdout)
    kubernetes_validate.validate(secret, "1.30.0", strict=True)
    keys = set(secret["stringData"])
    containers = {c["name"]: c for _, spec in _pod_specs() for c in spec["containers"]}
    for name in ("worker", "recrawl"):
        assert _secret_refs(containers[name]) == {"REDIS_URL": "REDIS_URL", "MONGO_URI": "MONGO_URI"}
    assert set(_secret_refs(containers["redis"]).values()) == {"REDIS_PASSWORD", "REDIS_WORKER_PASSWORD"}
    assert "MONGO_ROOT_PASSWORD" in _secret_refs(containers["mongodb"]).values()
    for container in containers.values():
        assert set(_secret_refs(container).values()) <= keys
    data = secret["stringData"]
    assert data["REDIS_URL"] == f"redis://worker:{data['REDIS_WORKER_PASSWORD']}@redis:6379/0"
    assert data["MONGO_URI"].startswith(f"mongodb://backlinks:{data['MONGO_APP_PASSWORD']}@mongodb:27017/")
    again = yaml.safe_load(subprocess.run(["sh", str(DEPLOY / "make-secrets"), "k8s"], capture_output=True,
                                          text=True, check=True).stdout)  # fmt: skip
    assert again["stringData"]["REDIS_PASSWORD"] != data["REDIS_PASSWORD"]  # generated, not shipped


def test_the_mongodb_init_script_is_the_same_in_compose_and_kubernetes():
    config = next(doc for _, doc in _manifests() if doc["metadata"]["name"] == "mongodb-init")
    script = (DEPLOY / "mongo-init" / "create-app-user.js").read_text()
    assert config["data"]["create-app-user.js"] == script
    assert 'role: "readWrite"' in script and "process.env.MONGO_APP_PASSWORD" in script


def test_every_pod_is_hardened():
    specs = dict(_pod_specs())
    assert set(specs) == {"redis", "mongodb", "worker", "recrawl"}
    for name, spec in specs.items():
        assert spec["automountServiceAccountToken"] is False, name
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 10000, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert container["resources"]["limits"]["memory"], name
            image = container["image"]
            assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+", image), f"{name}: {image} not pinned to a version"
            mounted = {m["name"] for m in container.get("volumeMounts", [])}
            assert "tmp" in mounted, f"{name}: no writable /tmp on a read-only root"


def test_redis_cannot_be_evicted_and_mongodb_fits_its_limit():
    containers = {c["name"]: c for _, spec in _pod_specs() for c in spec["containers"]}
    redis = containers["redis"]
    script = redis["command"][2]
    assert _option(script, "--maxmemory-policy") == "noeviction"
    assert _memory(_option(script, "--maxmemory")) < 0.8 * _memory(redis["resources"]["limits"]["memory"])
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]["redis"]["command"][2]
    assert script == compose.replace("$$", "$")  # one Redis start script, one ACL, in both
    mongo = containers["mongodb"]
    cache = float(_option(mongo["args"], "--wiredTigerCacheSizeGB")) * 2**30
    assert cache <= 0.5 * (_memory(mongo["resources"]["limits"]["memory"]) - 2**30) + 1


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


def test_checkov_skips_each_say_why():
    skips = yaml.safe_load((DEPLOY / "checkov-skips.yaml").read_text())
    assert skips and all(re.fullmatch(r"CKV2?_[A-Z0-9]+_\d+", check) for check in skips)
    assert all(isinstance(why, str) and len(why.split()) >= 10 for why in skips.values())
    assert re.search(r"checkov\"? -d deploy --skip-download", (DEPLOY.parent / ".ci" / "run").read_text())


def test_the_systemd_unit_is_sandboxed_to_at_most_4():
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = DEPLOY / "systemd" / "backlinkspider-recrawl.service"
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout).group(1))
    assert exposure <= 4.0, done.stdout
    quoted = re.search(r"`systemd-analyze security`[^\n]*? (\d+\.\d+)", (DEPLOY / "README.md").read_text())
    assert quoted and float(quoted.group(1)) == exposure, "deploy/README.md quotes another rating"


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
