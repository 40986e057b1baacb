"""``database_api`` (and condenser) chain state: global properties, config, feed, reward fund, schedule."""

from __future__ import annotations

from typing import Any

from ..chain_gen import HBD, HIVE, VESTS, format_time
from .chain import ChainData
from .condenser_api import to_legacy


class DatabaseApi(ChainData):
    def _dgp(self, legacy: bool) -> dict[str, Any]:
        head = self.served_head
        props: dict[str, Any] = {
            "id": 0,
            "head_block_number": head,
            "head_block_id": self._id_of(head) if head else "0" * 40,
            "time": format_time(self._epoch_of(head)),
            "current_witness": "blocktrades",
            "total_pow": 514415,
            "num_pow_witnesses": 172,
            "virtual_supply": {"amount": "470000000000", "precision": 3, "nai": HIVE},
            "current_supply": {"amount": "450000000000", "precision": 3, "nai": HIVE},
            "init_hbd_supply": {"amount": "0", "precision": 3, "nai": HBD},
            "current_hbd_supply": {"amount": "30000000000", "precision": 3, "nai": HBD},
            "total_vesting_fund_hive": {"amount": "180000000000", "precision": 3, "nai": HIVE},
            "total_vesting_shares": {"amount": "330000000000000000", "precision": 6, "nai": VESTS},
            "total_reward_fund_hive": {"amount": "0", "precision": 3, "nai": HIVE},
            "total_reward_shares2": "0",
            "pending_rewarded_vesting_shares": {"amount": "1000000000000", "precision": 6, "nai": VESTS},
            "pending_rewarded_vesting_hive": {"amount": "500000000", "precision": 3, "nai": HIVE},
            "hbd_interest_rate": 2000,
            "hbd_print_rate": 10000,
            "maximum_block_size": 65536,
            "required_actions_partition_percent": 0,
            "current_aslot": head + 100,
            "recent_slots_filled": "340282366920938463463374607431768211455",
            "participation_count": 128,
            "last_irreversible_block_num": self.irreversible,
            "vote_power_reserve_rate": 10,
            "delegation_return_period": 432000,
            "reverse_auction_seconds": 0,
            "available_account_subsidies": 10000000,
            "hbd_stop_percent": 2000,
            "hbd_start_percent": 2000,
            "next_maintenance_time": format_time(self._epoch_of(head) + 3600),
            "last_budget_time": format_time(self._epoch_of(head) - 60),
            "next_daily_maintenance_time": format_time(self._epoch_of(head) + 40000),
            "content_reward_percent": 6500,
            "vesting_reward_percent": 1500,
            "proposal_fund_percent": 1000,
            "dhf_interval_ledger": {"amount": "0", "precision": 3, "nai": HBD},
            "downvote_pool_percent": 2500,
            "current_remove_threshold": 200,
            "early_voting_seconds": 86400,
            "mid_voting_seconds": 172800,
            "max_consecutive_recurrent_transfers": 100,
            "max_recurrent_transfer_end_date": 730,
            "min_recurrent_transfers_recurrence": 24,
            "max_open_recurrent_transfers": 255,
        }
        return to_legacy(props) if legacy else props

    def _config(self) -> dict[str, Any]:
        return {
            "IS_TEST_NET": False,
            "HIVE_ENABLE_SMT": False,
            "HIVE_CHAIN_ID": "beeab0de" + "0" * 56,
            "HIVE_BLOCKCHAIN_VERSION": "1.27.5",
            "HIVE_BLOCKCHAIN_HARDFORK_VERSION": "1.27.0",
            "HIVE_ADDRESS_PREFIX": "STM",
            "HIVE_GENESIS_TIME": "2016-03-24T16:00:00",
            "HIVE_BLOCK_INTERVAL": 3,
            "HIVE_BLOCKS_PER_DAY": 28800,
            "HIVE_BLOCKS_PER_YEAR": 10512000,
            "HIVE_100_PERCENT": 10000,
            "HIVE_1_PERCENT": 100,
            "HIVE_CASHOUT_WINDOW_SECONDS": 604800,
            "HIVE_UPVOTE_LOCKOUT_SECONDS": 43200,
            "HIVE_VOTE_DUST_THRESHOLD": 50000000,
            "HIVE_VOTING_MANA_REGENERATION_SECONDS": 432000,
            "HIVE_VOTE_REGENERATION_SECONDS": 432000,
            "HIVE_REVERSE_AUCTION_WINDOW_SECONDS_HF21": 300,
            "HIVE_CONTENT_CONSTANT_HF21": "2000000000000",
            "HIVE_MAX_VOTE_CHANGES": 5,
            "HIVE_MIN_VOTE_INTERVAL_SEC": 3,
            "HIVE_MAX_BLOCK_SIZE": 393216000,
            "HIVE_MAX_PERMLINK_LENGTH": 256,
            "HIVE_MAX_MEMO_SIZE": 2048,
            "HIVE_INIT_MINER_NAME": "initminer",
            "HIVE_ROOT_POST_PARENT": "",
            "HIVE_SYMBOL": {"nai": HIVE, "decimals": 3},
            "HBD_SYMBOL": {"nai": HBD, "decimals": 3},
            "VESTS_SYMBOL": {"nai": VESTS, "decimals": 6},
        }

    def _version(self) -> dict[str, Any]:
        return {"blockchain_version": "1.27.5", "hive_revision": "0" * 40, "fc_revision": "0" * 40,
                "chain_id": "beeab0de" + "0" * 56, "node_type": "mainnet"}

    def _feed(self, legacy: bool) -> dict[str, Any]:
        price = {"base": {"amount": "250", "precision": 3, "nai": HBD},
                 "quote": {"amount": "1000", "precision": 3, "nai": HIVE}}
        feed = {"id": 0, "current_median_history": price, "market_median_history": price,
                "current_min_history": price, "current_max_history": price, "price_history": [price]}
        return to_legacy(feed) if legacy else feed

    def _reward_fund(self, legacy: bool) -> dict[str, Any]:
        fund = {
            "id": 0,
            "name": "post",
            "reward_balance": {"amount": "800000000", "precision": 3, "nai": HIVE},
            "recent_claims": "600000000000000000",
            "last_update": format_time(self._epoch_of(self.served_head)),
            "content_constant": "2000000000000",
            "percent_curation_rewards": 5000,
            "percent_content_rewards": 10000,
            "author_reward_curve": "linear",
            "curation_reward_curve": "linear",
        }
        return to_legacy(fund) if legacy else fund

    def _witness_schedule(self) -> dict[str, Any]:
        return {
            "id": 0,
            "current_virtual_time": "0",
            "next_shuffle_block_num": self.served_head + 21,
            "current_shuffled_witnesses": ["blocktrades", "gtg", "arcange"],
            "num_scheduled_witnesses": 21,
            "elected_weight": 1,
            "timeshare_weight": 5,
            "miner_weight": 1,
            "witness_pay_normalization_factor": 25,
            "median_props": {
                "account_creation_fee": "3.000 HIVE",
                "maximum_block_size": 65536,
                "hbd_interest_rate": 2000,
                "account_subsidy_budget": 797,
                "account_subsidy_decay": 347321,
            },
            "majority_version": "1.27.0",
            "max_voted_witnesses": 20,
            "max_miner_witnesses": 0,
            "max_runner_witnesses": 1,
            "hardfork_required_witnesses": 17,
        }

