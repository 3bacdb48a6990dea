-- One row per test record and scored item (BMI included). The SQL is the shared macro that
-- `edulake fitness score` also runs: one implementation of the 2014 standard.
{{ fitness_item_scores(ref('int_health__fitness_measurements'),
                       ref('health_fitness_standard_2014'),
                       ref('health_fitness_item_weights')) }}
