/*
What: in the backtest, the ratio (cohort-survival) forecast of grade-1 and grade-7 intake has a lower
  MAPE than the naive forecast (last year's intake), for the city and over all district points.
When it matters: a 学位预测 that does no better than "same as last year" should not steer school
  building; the issue requires the method to beat the baseline.
How to resolve: inspect enrollment_intake_backtest_points for the years and districts with large
  errors; try another var('enrollment:ratio_window') or check the births feed (fct_birth) for gaps.
*/
select *
from {{ ref('enrollment_forecast_backtest') }}
where scope in ('city', 'district_all') and not beats_naive
