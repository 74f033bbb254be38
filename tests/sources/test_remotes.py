"""Remote URLs: parsing, credential stripping, commit links and namespaces."""

from __future__ import annotations

import pytest

from controller.sources import derive_namespace, display_url, parse_remote, strip_credentials

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("url", "commit_url"),
    [
        (
            "https://github.com/acme/ml-models.git",
            f"https://github.com/acme/ml-models/commit/{SHA}",
        ),
        ("https://github.com/acme/ml-models", f"https://github.com/acme/ml-models/commit/{SHA}"),
        ("git@github.com:acme/ml-models.git", f"https://github.com/acme/ml-models/commit/{SHA}"),
        (
            "ssh://git@ssh.github.com:443/acme/ml-models.git",
            f"https://github.com/acme/ml-models/commit/{SHA}",
        ),
        (
            "git@github.acme.corp:data/models.git",
            f"https://github.acme.corp/data/models/commit/{SHA}",
        ),
        (
            "https://gitlab.com/group/sub/deeper/repo.git",
            f"https://gitlab.com/group/sub/deeper/repo/-/commit/{SHA}",
        ),
        (
            "git@gitlab.com:group/sub/repo.git",
            f"https://gitlab.com/group/sub/repo/-/commit/{SHA}",
        ),
        (
            "ssh://git@gitlab.internal.example:2222/platform/ml/repo.git",
            f"https://gitlab.internal.example/platform/ml/repo/-/commit/{SHA}",
        ),
        (
            "https://gitlab.internal.example:8443/platform/repo",
            f"https://gitlab.internal.example:8443/platform/repo/-/commit/{SHA}",
        ),
        (
            "https://bitbucket.org/acme/models.git",
            f"https://bitbucket.org/acme/models/commits/{SHA}",
        ),
        ("git@bitbucket.org:acme/models.git", f"https://bitbucket.org/acme/models/commits/{SHA}"),
        (
            "https://bitbucket.acme.corp/scm/ml/models.git",
            f"https://bitbucket.acme.corp/projects/ML/repos/models/commits/{SHA}",
        ),
        (
            "ssh://git@bitbucket.acme.corp:7999/ml/models.git",
            f"https://bitbucket.acme.corp/projects/ML/repos/models/commits/{SHA}",
        ),
        (
            "https://dev.azure.com/acme/ml/_git/models",
            f"https://dev.azure.com/acme/ml/_git/models/commit/{SHA}",
        ),
        (
            "git@ssh.dev.azure.com:v3/acme/ml/models",
            f"https://dev.azure.com/acme/ml/_git/models/commit/{SHA}",
        ),
        (
            "https://git.example.org/team/repo.git",
            f"https://git.example.org/team/repo/commit/{SHA}",
        ),
    ],
)
def test_commit_links_are_derived_from_every_remote_form(url: str, commit_url: str) -> None:
    remote = parse_remote(url)
    assert remote is not None
    assert remote.commit_url(SHA) == commit_url


def test_file_remotes_have_no_web_link() -> None:
    remote = parse_remote("file:///srv/git/models.git")
    assert remote is not None
    assert remote.scheme == "file"
    assert remote.commit_url(SHA) is None


@pytest.mark.parametrize("path", ["/srv/repo", "./repo", "repo", "../a/b:c"])
def test_local_paths_are_not_remotes(path: str) -> None:
    assert parse_remote(path) is None


def test_a_token_in_the_url_is_parsed_but_never_displayed() -> None:
    remote = parse_remote("https://x-access-token:ghp_SeCrEt123@github.com/acme/repo.git")
    assert remote is not None
    assert remote.password == "ghp_SeCrEt123"
    assert remote.display() == "https://github.com/acme/repo.git"
    assert "ghp_SeCrEt123" not in repr(remote)


def test_percent_encoded_tokens_are_decoded() -> None:
    remote = parse_remote("https://user:p%40ss%2Fword@example.com/r.git")
    assert remote is not None
    assert remote.password == "p@ss/word"


def test_display_keeps_the_ssh_user_but_drops_an_ssh_password() -> None:
    assert display_url("ssh://git:hunter22@host.example/r.git") == "ssh://git@host.example/r.git"
    assert display_url("git@github.com:acme/r.git") == "git@github.com:acme/r.git"


def test_strip_credentials_cleans_urls_inside_free_text() -> None:
    text = (
        "fatal: unable to access 'https://oauth2:glpat-XYZ@gitlab.com/g/r.git/': 403 "
        "and ssh://git:pw@h/r and https://tokenonly@github.com/o/r"
    )
    cleaned = strip_credentials(text)
    assert "glpat-XYZ" not in cleaned
    assert "pw@" not in cleaned
    assert "tokenonly" not in cleaned
    assert "https://gitlab.com/g/r.git/" in cleaned


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Acme/ML-Models.git",
        "https://github.com/acme/ml-models",
        "https://token@github.com/acme/ml-models.git/",
        "git@github.com:acme/ml-models.git",
        "ssh://git@github.com/acme/ml-models.git",
        "ssh://git@ssh.github.com:443/acme/ml-models",
    ],
)
def test_the_namespace_is_the_same_for_https_and_ssh_forms_of_one_remote(url: str) -> None:
    assert derive_namespace(url, "fallback") == "github.com/acme/ml-models"


def test_gitlab_namespaces_keep_subgroups() -> None:
    assert (
        derive_namespace("git@gitlab.com:Platform/ML/models.git", "x")
        == "gitlab.com/platform/ml/models"
    )


def test_bitbucket_server_namespaces_agree_between_https_and_ssh() -> None:
    https = derive_namespace("https://bitbucket.acme.corp/scm/ml/models.git", "x")
    ssh = derive_namespace("ssh://git@bitbucket.acme.corp:7999/ml/models.git", "x")
    assert https == ssh == "bitbucket.acme.corp/ml/models"


def test_without_a_remote_the_namespace_is_the_folder_name() -> None:
    assert derive_namespace(None, "My Models") == "my-models"
    assert derive_namespace("file:///srv/git/Team-Repo.git", "x") == "team-repo"


def test_long_namespaces_are_shortened_but_stay_distinct() -> None:
    first = derive_namespace("https://gitlab.com/" + "a" * 80 + "/one", "x")
    second = derive_namespace("https://gitlab.com/" + "a" * 80 + "/two", "x")
    assert len(first) <= 64
    assert len(second) <= 64
    assert first != second
    assert set(first) <= set("abcdefghijklmnopqrstuvwxyz0123456789._/-")
