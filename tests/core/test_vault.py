from __future__ import annotations

import pytest

from gateway.core.errors import KeyRingError
from gateway.core.vault import KeyRing, generate_key_line, is_ciphertext


def test_encrypt_then_decrypt_returns_the_secret(key_ring: KeyRing) -> None:
    ciphertext = key_ring.encrypt("s3cr3t-token")
    assert ciphertext.startswith("gw1:test-key:")
    assert "s3cr3t-token" not in ciphertext
    assert key_ring.decrypt(ciphertext) == "s3cr3t-token"


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old = generate_key_line("old")
    new = generate_key_line("new")
    written_with_old = KeyRing.parse(old).encrypt("value")
    ring = KeyRing.parse(f"{new},{old}")
    assert ring.primary_id == "new"
    assert ring.decrypt(written_with_old) == "value"
    assert ring.needs_reencryption(written_with_old)
    assert not ring.needs_reencryption(ring.encrypt("value"))


def test_a_missing_key_is_named_by_its_id() -> None:
    ciphertext = KeyRing.parse(generate_key_line("gone")).encrypt("value")
    with pytest.raises(KeyRingError, match="'gone', which is not in the key ring"):
        KeyRing.parse(generate_key_line("other")).decrypt(ciphertext)


def test_a_wrong_key_with_the_same_id_is_an_error_not_garbage() -> None:
    ciphertext = KeyRing.parse(generate_key_line("k1")).encrypt("value")
    with pytest.raises(KeyRingError, match="does not decrypt with key 'k1'"):
        KeyRing.parse(generate_key_line("k1")).decrypt(ciphertext)


def test_a_clear_value_is_not_mistaken_for_ciphertext(key_ring: KeyRing) -> None:
    assert not is_ciphertext("plain-token")
    with pytest.raises(KeyRingError, match="not in the encrypted format"):
        key_ring.decrypt("plain-token")


def test_repr_shows_key_ids_only(key_line: str, key_ring: KeyRing) -> None:
    key_material = key_line.split(":", 1)[1]
    assert repr(key_ring) == "KeyRing(key_ids=['test-key'])"
    assert key_material not in repr(key_ring)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "key ring is empty"),
        ("no-separator", "written as <id>:<key>"),
        ("k1:not-a-fernet-key", "'k1' is not a valid key"),
        ("bad id!:" + "A" * 43 + "=", "id 'bad id!' is invalid"),
    ],
)
def test_malformed_key_rings_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(KeyRingError, match=message):
        KeyRing.parse(text)


def test_duplicate_key_ids_are_refused() -> None:
    line = generate_key_line("same")
    with pytest.raises(KeyRingError, match="appears twice"):
        KeyRing.parse(f"{line}\n{line}")


def test_key_file_comments_and_blank_lines_are_ignored(key_line: str) -> None:
    assert KeyRing.parse(f"# comment, with a comma: and a colon\n\n{key_line}  # the current key\n").key_ids == (
        "test-key",
    )
