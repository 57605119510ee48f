"""Bridges from the MORE reward-model application to other training libraries.

* :mod:`.trl`: :class:`~applications.reward_models.integrations.trl.MoreRewardTrainer`, MORE inside
  TRL's ``RewardTrainer`` (install the ``trl`` extra: ``pip install -e ".[rm,trl]"``).

Nothing is imported here, so ``import applications.reward_models.integrations`` never needs TRL.
"""
