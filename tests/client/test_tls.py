"""Certificate verification against a real HTTPS server whose certificate is signed by a CA made
for the test: ``verify`` on Colonies and AsyncColonies (RPCs and WebSocket subscriptions), the
COLONIES_SKIP_TLS_VERIFY / COLONIES_CA_CERT environment (colonies_client, executor settings), an
executor on the lean transport, and the CLI's --skip-tls-verify. One server for the module."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509  # installed with the dev dependency moto[server]
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from pycolonies import AsyncColonies, Colonies, ColoniesError, TransportError, colonies_client, func_spec
from pycolonies.cli.main import app
from pycolonies.crypto import generate_prvkey, id_of
from pycolonies.executor.echo import EchoExecutor
from pycolonies.executor.settings import ExecutorConfigError, Settings

from ..conftest import SERVER_PRVKEY, ServerProcess
from ..executor.test_python_executor import serving


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) files: a private CA and a certificate it
    signed for localhost and 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("pycolonies test CA"))
        .issuer_name(_name("pycolonies test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),  # sign certs, CRLs
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@dataclass
class TlsColony:
    """A colony with an approved executor and a user on the HTTPS server."""

    server: ServerProcess
    ca: Path
    colonyname: str
    colony_prvkey: str
    executor_prvkey: str
    executortype: str
    user_prvkey: str

    @property
    def port(self) -> int:
        return self.server.port

    def env(self, **extra: str) -> dict[str, str]:
        """The SDK's COLONIES_* variables for this server (a user's key), plus ``extra``."""
        return {
            "COLONIES_SERVER_HOST": "127.0.0.1",
            "COLONIES_SERVER_PORT": str(self.port),
            "COLONIES_SERVER_TLS": "true",
            "COLONIES_COLONY_NAME": self.colonyname,
            "COLONIES_PRVKEY": self.user_prvkey,
            **extra,
        }


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsColony]:
    directory = tmp_path_factory.mktemp("tls")
    ca, cert, key = make_certificates(directory)
    server = ServerProcess(directory / "data", env={"COLONIES_TLSCERT": str(cert), "COLONIES_TLSKEY": str(key)})
    server.start()
    try:
        colony_prvkey, executor_prvkey, user_prvkey = generate_prvkey(), generate_prvkey(), generate_prvkey()
        colonyname = "colony-" + secrets.token_hex(5)
        executortype = "type-" + secrets.token_hex(3)
        with Colonies("127.0.0.1", server.port, tls=True, verify=ca) as client:
            client.add_colony({"colonyid": id_of(colony_prvkey), "name": colonyname}, SERVER_PRVKEY)
            executor = {
                "executorname": "executor-" + secrets.token_hex(4),
                "executorid": id_of(executor_prvkey),
                "colonyname": colonyname,
                "executortype": executortype,
            }
            client.add_executor(executor, colony_prvkey)
            client.approve_executor(colonyname, executor["executorname"], colony_prvkey)
            user = {"colonyname": colonyname, "userid": id_of(user_prvkey), "name": "user", "email": "", "phone": ""}
            client.add_user(user, colony_prvkey)
        yield TlsColony(server, ca, colonyname, colony_prvkey, executor_prvkey, executortype, user_prvkey)
    finally:
        server.stop()


def _submit(client: Colonies, tls: TlsColony, funcname: str = "work", args: list[str] | None = None) -> str:
    spec = func_spec(funcname, args or [], tls.colonyname, tls.executortype, maxexectime=-1)
    return client.submit_func_spec(spec, tls.user_prvkey).processid


# ------------------------------------------------------------------------------------------------
# The SDK


def test_default_verification_rejects_the_certificate(tls: TlsColony) -> None:
    with Colonies("127.0.0.1", tls.port, tls=True, prvkey=tls.user_prvkey) as client:
        with pytest.raises(TransportError, match="certificate") as rpc:
            client.version()
        with pytest.raises(TransportError, match="certificate") as subscription:
            client.subscribe_process("0" * 64, Colonies.WAITING, 5)
    for error in (rpc.value, subscription.value):
        assert "CERTIFICATE_VERIFY_FAILED" in str(error)
        assert "verify=False" in str(error) and "COLONIES_CA_CERT" in str(error)

    async def rejected() -> None:
        async with AsyncColonies("127.0.0.1", tls.port, tls=True, prvkey=tls.user_prvkey) as client:
            with pytest.raises(TransportError, match="certificate"):
                await client.version()
            with pytest.raises(TransportError, match="certificate"):
                await client.subscribe_process("0" * 64, Colonies.WAITING, 5)

    asyncio.run(rejected())


@pytest.mark.parametrize("trust", ["skip", "ca-bundle"])
def test_sync_client_rpc_and_subscriptions(tls: TlsColony, trust: str) -> None:
    verify = False if trust == "skip" else str(tls.ca)
    with Colonies("127.0.0.1", tls.port, tls=True, prvkey=tls.user_prvkey, verify=verify) as client:
        assert client.version()
        processid = _submit(client, tls)
        with client.subscribe_process(processid, Colonies.WAITING, 5) as sub:
            assert next(sub).processid == processid
        assigned = client.assign(tls.colonyname, 5, tls.executor_prvkey)
        client.close(assigned.processid, ["done"], tls.executor_prvkey)
        assert client.wait(processid, 5).output == ["done"]


@pytest.mark.parametrize("trust", ["skip", "ca-bundle"])
def test_async_client_rpc_and_subscriptions(tls: TlsColony, trust: str) -> None:
    verify = False if trust == "skip" else tls.ca  # a PathLike works as well as a str

    async def scenario() -> None:
        async with AsyncColonies("127.0.0.1", tls.port, tls=True, prvkey=tls.user_prvkey, verify=verify) as client:
            assert await client.version()
            spec = func_spec("work", [], tls.colonyname, tls.executortype, maxexectime=-1)
            processid = (await client.submit_func_spec(spec)).processid
            async with await client.subscribe_process(processid, Colonies.WAITING, 5) as sub:
                assert (await anext(sub)).processid == processid
            assigned = await client.assign(tls.colonyname, 5, tls.executor_prvkey)
            await client.close(assigned.processid, ["done"], tls.executor_prvkey)
            assert (await client.wait(processid, 5)).output == ["done"]

    asyncio.run(scenario())


def test_a_missing_ca_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ColoniesError, match=r"Cannot load the CA bundle .*missing\.pem"):
        Colonies("127.0.0.1", 1, tls=True, verify=tmp_path / "missing.pem")


def test_colonies_client_reads_the_environment(tls: TlsColony, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("COLONIES_")]:
        monkeypatch.delenv(name)
    for name, value in tls.env().items():
        monkeypatch.setenv(name, value)
    client = colonies_client()[0]
    with client, pytest.raises(TransportError, match="certificate"):
        client.version()
    monkeypatch.setenv("COLONIES_CA_CERT", str(tls.ca))
    client = colonies_client()[0]
    with client:
        assert client.version()
    monkeypatch.delenv("COLONIES_CA_CERT")
    monkeypatch.setenv("COLONIES_SKIP_TLS_VERIFY", "true")
    client = colonies_client()[0]
    with client:
        assert client.version()
        assert client.verify is False


def test_executor_settings_from_the_environment(tls: TlsColony) -> None:
    base = tls.env(COLONIES_COLONY_PRVKEY=tls.colony_prvkey, COLONIES_EXECUTOR_TYPE="echo-" + secrets.token_hex(3))
    assert Settings.from_env(base).verify is True
    assert Settings.from_env({**base, "COLONIES_CA_CERT": str(tls.ca)}).verify == str(tls.ca)
    with pytest.raises(ExecutorConfigError, match="COLONIES_SKIP_TLS_VERIFY"):
        Settings.from_env({**base, "COLONIES_SKIP_TLS_VERIFY": "maybe"})

    # an executor on the lean transport (assign, close) and a blocking client (register), verify off
    settings = Settings.from_env({**base, "COLONIES_SKIP_TLS_VERIFY": "true"})
    assert settings.verify is False
    spec = func_spec("echo", ["over tls"], tls.colonyname, settings.executortype, maxexectime=-1)
    with serving(EchoExecutor.from_settings(settings, poll_timeout=1)):
        with Colonies("127.0.0.1", tls.port, tls=True, prvkey=tls.user_prvkey, verify=tls.ca) as client:
            process = client.submit_func_spec(spec)
            assert client.wait(process, 10).output == ["over tls"]


# ------------------------------------------------------------------------------------------------
# The CLI


def _cli(tls: TlsColony, *args: str, **extra: str) -> tuple[int, str, str]:
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("COLONIES_")}
    env.update(
        {
            "COLONIES_SERVER_HOST": "127.0.0.1",
            "COLONIES_SERVER_PORT": str(tls.port),
            "COLONIES_TLS": "true",
            "COLONIES_COLONY_NAME": tls.colonyname,
            "COLONIES_PRVKEY": tls.user_prvkey,
            **extra,
        }
    )
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_cli_skip_tls_verify(tls: TlsColony) -> None:
    code, _, stderr = _cli(tls, "process", "ps")
    assert code == 1
    assert stderr.startswith("Error: cannot reach the Colonies server at https://127.0.0.1:")
    assert "certificate could not be verified" in stderr and "--skip-tls-verify" in stderr

    for args, extra in [
        (["--skip-tls-verify"], {}),
        ([], {"COLONIES_SKIP_TLS_VERIFY": "true"}),
        ([], {"COLONIES_CA_CERT": str(tls.ca)}),
    ]:
        code, stdout, stderr = _cli(tls, "process", "ps", *args, **extra)
        assert code == 0, (args, extra, stdout, stderr)
