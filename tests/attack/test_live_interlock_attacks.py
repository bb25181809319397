"""Account ids that look like paper ids but are not ones IB issues: never taken for a paper login."""
from __future__ import annotations

import pytest

from harness.safety import LiveAccountRefused, check_managed_accounts, is_paper_account


@pytest.mark.parametrize("account", ["DU١٢٣٤٥٦٧", "DU１２３４５６７", "DUé1234", "DU_1234567", "DU 1234567", "ＤＵ1234567", "DU"])
def test_a_lookalike_paper_id_is_not_paper_and_a_login_reporting_it_is_refused(account):
    assert not is_paper_account(account)
    with pytest.raises(LiveAccountRefused):
        check_managed_accounts([account], None, port=4002, what="the probe")


@pytest.mark.parametrize("account", ["DU1234567", "DU123", "DUF1234567"])
def test_paper_ids_as_ib_issues_them_still_pass(account):
    assert is_paper_account(account)
    assert check_managed_accounts([account], None, port=4002) == [account]
