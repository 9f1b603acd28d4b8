"""The names of the per-tick metrics columns: the vocabulary a scenario's triggers and the tables refer to.

At the bottom of the package (beside `errors`), so the scenario layer can check a trigger's `when.metric` without
importing the simulation that computes the columns. `cost_<intervention>` columns follow these in a run's table.
"""

# Added by the economics step (wom_sim/sim/economics.py) after the core columns.
ECONOMICS_COLUMNS = ["purchases", "cum_purchases", "cum_cost_of_goods", "cum_repurchases", "cum_churn_events",
                     "margin_per_purchase", "clv"]  # fmt: skip

# Column order of the per-tick table (wom_sim/sim/metrics.py computes them).
METRIC_COLUMNS = [
    "t", "unaware", "aware", "customers", "churned",
    "new_customers", "new_none", "new_advertising", "new_wom", "new_kol", "new_referral",
    "adoption_share", "churn_events", "churn_rate", "winbacks", "repurchases", "repurchase_rate",
    "revenue", "cost_of_goods", "intervention_cost", "profit", "cum_revenue", "cum_intervention_cost", "cum_profit",
    "mean_E", "mean_S", "mean_T", "mean_A", "mean_L", "S_p10", "S_p50", "S_p90", "L_p10", "L_p50", "L_p90",
    "nps", "promoters", "passives", "detractors",
    "pos_messages", "neg_messages", "pos_speakers", "neg_speakers", "pos_reach", "neg_reach", "kol_share",
    "brand", "awareness", "wom_acquired_share", "failures", "recoveries", "at_risk",
    *ECONOMICS_COLUMNS,  # cumulative cost of goods, purchases, margin per purchase, clv
]  # fmt: skip
