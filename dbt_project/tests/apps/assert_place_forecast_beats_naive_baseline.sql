/*
What: in the backtest, the ratio (cohort-survival) forecast of grade-1 and grade-7 intake beats the
  naive forecast (last year's intake): on MAPE for the city, and on WAPE (Σ|error| / Σ actual) over
  all district points. District MAPE is reported beside it but not required: in districts whose
  intake is a handful of pupils, counting noise dominates a mean of percentage errors.
When it matters: a 学位预测 that does no better than "same as last year" should not steer school
  building; the issue requires the method to beat the baseline.
How to resolve: inspect enrollment_intake_backtest_points for the years and districts with large
  errors; try another var('enrollment:ratio_window') or check the births feed (fct_birth) for gaps.
  Backtests over fewer than var('enrollment:backtest_min_years') forecast years (a lake holding one
  or two school years) are not asserted: one year's error says nothing about the method.
*/
select *
from {{ ref('enrollment_forecast_backtest') }}
where years >= {{ var('enrollment:backtest_min_years') }}
    and (
        (grouping_level = 'city' and not beats_naive)
        or (grouping_level = 'district_all' and not beats_naive_wape)
    )
