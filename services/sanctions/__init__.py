"""Rewards and sanctions (menu section 奖惩): violation cases and their lifecycle, the
sanction rule (eligibility), award nominations and incentive pay."""
