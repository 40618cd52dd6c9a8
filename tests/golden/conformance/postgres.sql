-- leads: allowed-values.attribution-channel, allowed-values.closure-reason, allowed-values.lead-source, allowed-values.lead-stage, allowed-values.location, allowed-values.queue, allowed-values.region, allowed-values.specialty, appointment-stage-consistent, attribution-present, closure-reason-present, duplicates.email, duplicates.name-location, duplicates.phone, reason-note-present.closed-lost, reason-note-present.closure, reason-note-present.qualified, required-fields.qualified, required-fields.scheduled, routing-consistent, sla-escalated.first-call, sla.first-call, sla.qualify-fast
WITH base AS (
  SELECT
    "attribution_channel" AS f0_attribution_channel,
    "closure_reason" AS f1_closure_reason,
    "lead_source" AS f2_lead_source,
    "stage" AS f3_lead_stage,
    "location" AS f4_location,
    "queue" AS f5_queue,
    "region" AS f6_region,
    "specialty" AS f7_specialty,
    "utm_source" AS f8_utm_source,
    "utm_campaign" AS f9_utm_campaign,
    "reason_note" AS f10_reason_note,
    "consent" AS f11_consent_to_contact,
    "phone" AS f12_phone,
    "escalated_at" AS f13_escalated_at,
    "created_at" AS f14_created_at,
    "lead_id" AS f15_lead_id,
    CASE
      WHEN NOT (
        (
          "email" IS NULL OR TRIM(CAST("email" AS TEXT)) = ''
        )
      )
      THEN 1
      ELSE 0
    END AS g11_in,
    LOWER(TRIM(CAST("email" AS TEXT))) AS g11_k0,
    CASE
      WHEN (
        NOT (
          COALESCE("is_duplicate", FALSE) = TRUE
        )
        AND (
          "merged_into" IS NULL OR TRIM(CAST("merged_into" AS TEXT)) = ''
        )
      )
      THEN 1
      ELSE 0
    END AS u0,
    CASE
      WHEN (
        NOT (
          (
            "first_name" IS NULL OR TRIM(CAST("first_name" AS TEXT)) = ''
          )
        )
        AND NOT (
          (
            "last_name" IS NULL OR TRIM(CAST("last_name" AS TEXT)) = ''
          )
        )
        AND NOT (
          (
            "location" IS NULL OR TRIM(CAST("location" AS TEXT)) = ''
          )
        )
      )
      THEN 1
      ELSE 0
    END AS g12_in,
    LOWER(TRIM(CAST("first_name" AS TEXT))) AS g12_k0,
    LOWER(TRIM(CAST("last_name" AS TEXT))) AS g12_k1,
    CAST("location" AS TEXT) AS g12_k2,
    CASE
      WHEN NOT (
        (
          "phone" IS NULL OR TRIM(CAST("phone" AS TEXT)) = ''
        )
      )
      THEN 1
      ELSE 0
    END AS g13_in,
    REGEXP_REPLACE(CAST("phone" AS TEXT), '[^0-9]+', '', 'g') AS g13_k0,
    LPAD(
      CAST(CAST(EXTRACT(EPOCH FROM CAST("created_at" AS TIMESTAMP)) AS BIGINT) AS TEXT),
      12,
      '0'
    ) || '|' || CAST("lead_id" AS TEXT) AS sk
  FROM leads
), sh AS (
  SELECT
    "lead_id" AS k,
    MAX(CASE WHEN "to_stage" = 'scheduled' THEN 1 ELSE 0 END) AS ent0,
    MAX(CASE WHEN "to_stage" = 'in-treatment' THEN 1 ELSE 0 END) AS ent1,
    MAX(CASE WHEN "to_stage" = 'Closed - Lost' THEN 1 ELSE 0 END) AS ent2,
    MAX(CASE WHEN "to_stage" = 'qualified' THEN 1 ELSE 0 END) AS ent3,
    CAST(EXTRACT(EPOCH FROM CAST(MIN(CASE WHEN "to_stage" = 'qualified' THEN CAST("changed_at" AS TIMESTAMP) END) AS TIMESTAMP)) AS BIGINT) AS st0
  FROM stage_history
  GROUP BY
    "lead_id"
), ap AS (
  SELECT
    "lead_id" AS k,
    MAX(CASE WHEN "appointment_stage" = 'booked' THEN 1 ELSE 0 END) AS ap0,
    MAX(CASE WHEN "appointment_stage" = 'completed' THEN 1 ELSE 0 END) AS ap1
  FROM appointments
  GROUP BY
    "lead_id"
), enriched AS (
  SELECT
    base.f0_attribution_channel,
    base.f1_closure_reason,
    base.f2_lead_source,
    base.f3_lead_stage,
    base.f4_location,
    base.f5_queue,
    base.f6_region,
    base.f7_specialty,
    base.f8_utm_source,
    base.f9_utm_campaign,
    base.f10_reason_note,
    base.f11_consent_to_contact,
    base.f12_phone,
    base.f13_escalated_at,
    base.f14_created_at,
    base.f15_lead_id,
    sh.ent0,
    sh.ent1,
    sh.ent2,
    sh.ent3,
    sh.st0,
    ap.ap0,
    ap.ap1
  FROM base
  LEFT JOIN sh AS sh
    ON sh.k = base.f15_lead_id
  LEFT JOIN ap AS ap
    ON ap.k = base.f15_lead_id
), a_af0 AS (
  SELECT
    x.f15_lead_id AS k,
    MIN(CAST(EXTRACT(EPOCH FROM CAST(t."occurred_at" AS TIMESTAMP)) AS BIGINT)) AS af0
  FROM enriched AS x
  INNER JOIN activities AS t
    ON t."lead_id" = x.f15_lead_id
  WHERE
    t."activity_type" IN ('call')
    AND CAST(EXTRACT(EPOCH FROM CAST(t."occurred_at" AS TIMESTAMP)) AS BIGINT) >= x.st0
  GROUP BY
    x.f15_lead_id
), a_af1 AS (
  SELECT
    x.f15_lead_id AS k,
    MIN(CAST(EXTRACT(EPOCH FROM CAST(t."changed_at" AS TIMESTAMP)) AS BIGINT)) AS af1
  FROM enriched AS x
  INNER JOIN stage_history AS t
    ON t."lead_id" = x.f15_lead_id
  WHERE
    t."to_stage" = 'qualified'
    AND CAST(EXTRACT(EPOCH FROM CAST(t."changed_at" AS TIMESTAMP)) AS BIGINT) >= CAST(EXTRACT(EPOCH FROM CAST(x.f14_created_at AS TIMESTAMP)) AS BIGINT)
  GROUP BY
    x.f15_lead_id
), enriched_after AS (
  SELECT
    x.*,
    a_af0.af0,
    a_af1.af1
  FROM enriched AS x
  LEFT JOIN a_af0 AS a_af0
    ON a_af0.k = x.f15_lead_id
  LEFT JOIN a_af1 AS a_af1
    ON a_af1.k = x.f15_lead_id
), slots AS (
  SELECT
    *,
    COALESCE(x.st0, 1769860800) AS t0,
    COALESCE(x.af0, 1769860800) AS t1,
    COALESCE(
      CAST(EXTRACT(EPOCH FROM CAST(x.f14_created_at AS TIMESTAMP)) AS BIGINT),
      1769860800
    ) AS t2,
    COALESCE(x.af1, 1769860800) AS t3
  FROM enriched_after AS x
), dup_groups AS (
  SELECT
    GROUPING(g11_in) AS s11,
    g11_in,
    GROUPING(g12_in) AS s12,
    g12_in,
    GROUPING(g13_in) AS s13,
    g13_in,
    COUNT(*) AS n,
    SUM(u0) AS unfl_u0,
    MIN(CASE WHEN u0 = 1 THEN sk END) AS fu_u0,
    MIN(sk) AS fa
  FROM base
  GROUP BY
    GROUPING SETS (
      (g11_in, g11_k0),
      (g12_in, g12_k0, g12_k1, g12_k2),
      (g13_in, g13_k0)
    )
), dups AS (
  SELECT
    COALESCE(SUM(CASE WHEN s11 = 0 AND g11_in = 1 THEN n END), 0) AS checked_11,
    COALESCE(
      SUM(
        CASE
          WHEN s11 = 0 AND g11_in = 1
          THEN unfl_u0 - CASE WHEN fu_u0 = fa THEN 1 ELSE 0 END
        END
      ),
      0
    ) AS violations_11,
    COALESCE(SUM(CASE WHEN s12 = 0 AND g12_in = 1 THEN n END), 0) AS checked_12,
    COALESCE(
      SUM(
        CASE
          WHEN s12 = 0 AND g12_in = 1
          THEN unfl_u0 - CASE WHEN fu_u0 = fa THEN 1 ELSE 0 END
        END
      ),
      0
    ) AS violations_12,
    COALESCE(SUM(CASE WHEN s13 = 0 AND g13_in = 1 THEN n END), 0) AS checked_13,
    COALESCE(
      SUM(
        CASE
          WHEN s13 = 0 AND g13_in = 1
          THEN unfl_u0 - CASE WHEN fu_u0 = fa THEN 1 ELSE 0 END
        END
      ),
      0
    ) AS violations_13
  FROM dup_groups
)
SELECT
  m.checked_0,
  m.violations_0,
  m.checked_1,
  m.violations_1,
  m.checked_2,
  m.violations_2,
  m.checked_3,
  m.violations_3,
  m.checked_4,
  m.violations_4,
  m.checked_5,
  m.violations_5,
  m.checked_6,
  m.violations_6,
  m.checked_7,
  m.violations_7,
  m.checked_8,
  m.violations_8,
  m.checked_9,
  m.violations_9,
  m.checked_10,
  m.violations_10,
  dups.checked_11,
  dups.violations_11,
  dups.checked_12,
  dups.violations_12,
  dups.checked_13,
  dups.violations_13,
  m.checked_14,
  m.violations_14,
  m.checked_15,
  m.violations_15,
  m.checked_16,
  m.violations_16,
  m.checked_17,
  m.violations_17,
  m.checked_18,
  m.violations_18,
  m.checked_19,
  m.violations_19,
  m.checked_20,
  m.violations_20,
  m.checked_21,
  m.violations_21,
  m.checked_22,
  m.violations_22
FROM (
  SELECT
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f0_attribution_channel IS NULL
          OR TRIM(CAST(x.f0_attribution_channel AS TEXT)) = ''
        )
      )) AS checked_0,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f0_attribution_channel IS NULL
          OR TRIM(CAST(x.f0_attribution_channel AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f0_attribution_channel IN ('paid-search', 'organic', 'referral', 'unattributed')
      )) AS violations_0,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f1_closure_reason IS NULL OR TRIM(CAST(x.f1_closure_reason AS TEXT)) = ''
        )
      )) AS checked_1,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f1_closure_reason IS NULL OR TRIM(CAST(x.f1_closure_reason AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f1_closure_reason IN ('no-response', 'not-a-fit', 'duplicate')
      )) AS violations_1,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f2_lead_source IS NULL OR TRIM(CAST(x.f2_lead_source AS TEXT)) = ''
        )
      )) AS checked_2,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f2_lead_source IS NULL OR TRIM(CAST(x.f2_lead_source AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f2_lead_source IN ('web', 'referral', 'event')
      )) AS violations_2,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f3_lead_stage IS NULL OR TRIM(CAST(x.f3_lead_stage AS TEXT)) = ''
        )
      )) AS checked_3,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f3_lead_stage IS NULL OR TRIM(CAST(x.f3_lead_stage AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f3_lead_stage IN ('new', 'qualified', 'scheduled', 'in-treatment', 'Closed - Lost')
      )) AS violations_3,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f4_location IS NULL OR TRIM(CAST(x.f4_location AS TEXT)) = ''
        )
      )) AS checked_4,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f4_location IS NULL OR TRIM(CAST(x.f4_location AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f4_location IN ('uptown', 'riverside', 'harbor')
      )) AS violations_4,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f5_queue IS NULL OR TRIM(CAST(x.f5_queue AS TEXT)) = ''
        )
      )) AS checked_5,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f5_queue IS NULL OR TRIM(CAST(x.f5_queue AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f5_queue IN ('cardiology-queue', 'general-queue')
      )) AS violations_5,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f6_region IS NULL OR TRIM(CAST(x.f6_region AS TEXT)) = ''
        )
      )) AS checked_6,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f6_region IS NULL OR TRIM(CAST(x.f6_region AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f6_region IN ('north', 'south')
      )) AS violations_6,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f7_specialty IS NULL OR TRIM(CAST(x.f7_specialty AS TEXT)) = ''
        )
      )) AS checked_7,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f7_specialty IS NULL OR TRIM(CAST(x.f7_specialty AS TEXT)) = ''
        )
      )
      AND NOT (
        x.f7_specialty IN ('cardiology', 'orthopedics')
      )) AS violations_7,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ap0, 0) = 1 OR COALESCE(x.ap1, 0) = 1
      )) AS checked_8,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ap0, 0) = 1 OR COALESCE(x.ap1, 0) = 1
      )
      AND (
        (
          COALESCE(x.ap0, 0) = 1
          AND NOT (
            (
              COALESCE(x.ent0, 0) = 1 OR COALESCE(x.f3_lead_stage = 'scheduled', FALSE)
            )
          )
        )
        OR (
          COALESCE(x.ap1, 0) = 1
          AND NOT (
            (
              COALESCE(x.ent1, 0) = 1 OR COALESCE(x.f3_lead_stage = 'in-treatment', FALSE)
            )
          )
        )
      )) AS violations_8,
    COUNT(*) FILTER(WHERE
      1 = 1) AS checked_9,
    COUNT(*) FILTER(WHERE
      1 = 1
      AND (
        (
          x.f0_attribution_channel IS NULL
          OR TRIM(CAST(x.f0_attribution_channel AS TEXT)) = ''
        )
        OR NOT (
          x.f0_attribution_channel IN ('paid-search', 'organic', 'referral', 'unattributed')
        )
        OR (
          x.f8_utm_source IS NULL OR TRIM(CAST(x.f8_utm_source AS TEXT)) = ''
        )
        OR (
          x.f9_utm_campaign IS NULL OR TRIM(CAST(x.f9_utm_campaign AS TEXT)) = ''
        )
      )) AS violations_9,
    COUNT(*) FILTER(WHERE
      x.f3_lead_stage IN ('Closed - Lost')) AS checked_10,
    COUNT(*) FILTER(WHERE
      x.f3_lead_stage IN ('Closed - Lost')
      AND (
        x.f1_closure_reason IS NULL OR TRIM(CAST(x.f1_closure_reason AS TEXT)) = ''
      )) AS violations_10,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent2, 0) = 1 OR COALESCE(x.f3_lead_stage = 'Closed - Lost', FALSE)
      )) AS checked_14,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent2, 0) = 1 OR COALESCE(x.f3_lead_stage = 'Closed - Lost', FALSE)
      )
      AND (
        x.f10_reason_note IS NULL OR TRIM(CAST(x.f10_reason_note AS TEXT)) = ''
      )) AS violations_14,
    COUNT(*) FILTER(WHERE
      x.f1_closure_reason IN ('not-a-fit')) AS checked_15,
    COUNT(*) FILTER(WHERE
      x.f1_closure_reason IN ('not-a-fit')
      AND (
        x.f10_reason_note IS NULL OR TRIM(CAST(x.f10_reason_note AS TEXT)) = ''
      )) AS violations_15,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent3, 0) = 1 OR COALESCE(x.f3_lead_stage = 'qualified', FALSE)
      )) AS checked_16,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent3, 0) = 1 OR COALESCE(x.f3_lead_stage = 'qualified', FALSE)
      )
      AND (
        x.f10_reason_note IS NULL OR TRIM(CAST(x.f10_reason_note AS TEXT)) = ''
      )) AS violations_16,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent3, 0) = 1 OR COALESCE(x.f3_lead_stage = 'qualified', FALSE)
      )) AS checked_17,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent3, 0) = 1 OR COALESCE(x.f3_lead_stage = 'qualified', FALSE)
      )
      AND (
        (
          x.f7_specialty IS NULL OR TRIM(CAST(x.f7_specialty AS TEXT)) = ''
        )
        OR (
          x.f6_region IS NULL OR TRIM(CAST(x.f6_region AS TEXT)) = ''
        )
        OR x.f11_consent_to_contact IS NULL
      )) AS violations_17,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent0, 0) = 1 OR COALESCE(x.f3_lead_stage = 'scheduled', FALSE)
      )) AS checked_18,
    COUNT(*) FILTER(WHERE
      (
        COALESCE(x.ent0, 0) = 1 OR COALESCE(x.f3_lead_stage = 'scheduled', FALSE)
      )
      AND (
        x.f12_phone IS NULL OR TRIM(CAST(x.f12_phone AS TEXT)) = ''
      )) AS violations_18,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f5_queue IS NULL OR TRIM(CAST(x.f5_queue AS TEXT)) = ''
        )
      )) AS checked_19,
    COUNT(*) FILTER(WHERE
      NOT (
        (
          x.f5_queue IS NULL OR TRIM(CAST(x.f5_queue AS TEXT)) = ''
        )
      )
      AND NOT (
        (
          x.f5_queue = 'general-queue'
          OR (
            COALESCE(x.f7_specialty IN ('cardiology'), FALSE) = TRUE
            AND x.f5_queue = 'cardiology-queue'
          )
          OR (
            COALESCE(1 = 1, FALSE) = TRUE
            AND NOT (
              COALESCE(x.f7_specialty IN ('cardiology'), FALSE) = TRUE
            )
            AND x.f5_queue = 'general-queue'
          )
        )
      )) AS violations_19,
    COUNT(*) FILTER(WHERE
      (
        (
          NOT (
            x.st0 IS NULL
          )
          AND (
            NOT (
              x.af0 IS NULL
            )
            OR (
              NOT (
                NOT (
                  1 = 1
                )
              ) AND NOT (
                x.f3_lead_stage IN ('Closed - Lost')
              )
            )
          )
        )
        AND (
          (
            b_t1.cum_business_seconds + LEAST(GREATEST(x.t1 - b_t1.hour_start, b_t1.open_offset), b_t1.close_offset) - b_t1.open_offset
          ) - (
            b_t0.cum_business_seconds + LEAST(GREATEST(x.t0 - b_t0.hour_start, b_t0.open_offset), b_t0.close_offset) - b_t0.open_offset
          )
        ) > 14400
      )) AS checked_20,
    COUNT(*) FILTER(WHERE
      (
        (
          NOT (
            x.st0 IS NULL
          )
          AND (
            NOT (
              x.af0 IS NULL
            )
            OR (
              NOT (
                NOT (
                  1 = 1
                )
              ) AND NOT (
                x.f3_lead_stage IN ('Closed - Lost')
              )
            )
          )
        )
        AND (
          (
            b_t1.cum_business_seconds + LEAST(GREATEST(x.t1 - b_t1.hour_start, b_t1.open_offset), b_t1.close_offset) - b_t1.open_offset
          ) - (
            b_t0.cum_business_seconds + LEAST(GREATEST(x.t0 - b_t0.hour_start, b_t0.open_offset), b_t0.close_offset) - b_t0.open_offset
          )
        ) > 14400
      )
      AND x.f13_escalated_at IS NULL) AS violations_20,
    COUNT(*) FILTER(WHERE
      (
        NOT (
          x.st0 IS NULL
        )
        AND (
          NOT (
            x.af0 IS NULL
          )
          OR (
            NOT (
              NOT (
                1 = 1
              )
            ) AND NOT (
              x.f3_lead_stage IN ('Closed - Lost')
            )
          )
        )
      )) AS checked_21,
    COUNT(*) FILTER(WHERE
      (
        NOT (
          x.st0 IS NULL
        )
        AND (
          NOT (
            x.af0 IS NULL
          )
          OR (
            NOT (
              NOT (
                1 = 1
              )
            ) AND NOT (
              x.f3_lead_stage IN ('Closed - Lost')
            )
          )
        )
      )
      AND (
        (
          b_t1.cum_business_seconds + LEAST(GREATEST(x.t1 - b_t1.hour_start, b_t1.open_offset), b_t1.close_offset) - b_t1.open_offset
        ) - (
          b_t0.cum_business_seconds + LEAST(GREATEST(x.t0 - b_t0.hour_start, b_t0.open_offset), b_t0.close_offset) - b_t0.open_offset
        )
      ) > 14400) AS violations_21,
    COUNT(*) FILTER(WHERE
      (
        NOT (
          CAST(EXTRACT(EPOCH FROM CAST(x.f14_created_at AS TIMESTAMP)) AS BIGINT) IS NULL
        )
        AND (
          NOT (
            x.af1 IS NULL
          )
          OR (
            NOT (
              NOT (
                1 = 1
              )
            ) AND NOT (
              x.f3_lead_stage IN ('Closed - Lost')
            )
          )
        )
      )) AS checked_22,
    COUNT(*) FILTER(WHERE
      (
        NOT (
          CAST(EXTRACT(EPOCH FROM CAST(x.f14_created_at AS TIMESTAMP)) AS BIGINT) IS NULL
        )
        AND (
          NOT (
            x.af1 IS NULL
          )
          OR (
            NOT (
              NOT (
                1 = 1
              )
            ) AND NOT (
              x.f3_lead_stage IN ('Closed - Lost')
            )
          )
        )
      )
      AND (
        b_t3.day_closes_before + CASE
          WHEN b_t3.day_close_offset >= 0 AND x.t3 - b_t3.hour_start > b_t3.day_close_offset
          THEN 1
          ELSE 0
        END
      ) - (
        b_t2.day_closes_before + CASE
          WHEN b_t2.day_close_offset >= 0 AND x.t2 - b_t2.hour_start >= b_t2.day_close_offset
          THEN 1
          ELSE 0
        END
      ) > 2) AS violations_22,
    COUNT(*) AS n_rows
  FROM slots AS x
  LEFT JOIN business_hours AS b_t0
    ON b_t0.hour_start = x.t0 - x.t0 % 3600
  LEFT JOIN business_hours AS b_t1
    ON b_t1.hour_start = x.t1 - x.t1 % 3600
  LEFT JOIN business_hours AS b_t2
    ON b_t2.hour_start = x.t2 - x.t2 % 3600
  LEFT JOIN business_hours AS b_t3
    ON b_t3.hour_start = x.t3 - x.t3 % 3600
) AS m
CROSS JOIN dups AS dups;

-- activities: allowed-values.activity-type, allowed-values.call-outcome, call-logging, outreach-before-consent, outreach-do-not-contact
WITH l AS (
  SELECT
    "lead_id" AS k,
    "consent" AS f0_consent_to_contact,
    "do_not_contact" AS f1_do_not_contact
  FROM leads
), g AS (
  SELECT
    t."activity_type" AS g0,
    t."call_outcome" AS g1,
    t."next_follow_up" IS NULL AS a2,
    l.f0_consent_to_contact AS g3,
    l.f1_do_not_contact AS g4,
    COUNT(*) AS n
  FROM activities AS t
  LEFT JOIN l AS l
    ON l.k = t."lead_id"
  GROUP BY
    t."activity_type",
    t."call_outcome",
    t."next_follow_up" IS NULL,
    l.f0_consent_to_contact,
    l.f1_do_not_contact
)
SELECT
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g0 IS NULL OR TRIM(CAST(g.g0 AS TEXT)) = ''
          )
        )
        THEN g.n
      END
    ),
    0
  ) AS checked_0,
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g0 IS NULL OR TRIM(CAST(g.g0 AS TEXT)) = ''
          )
        )
        AND NOT (
          g.g0 IN ('call', 'email', 'sms')
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_0,
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g1 IS NULL OR TRIM(CAST(g.g1 AS TEXT)) = ''
          )
        )
        THEN g.n
      END
    ),
    0
  ) AS checked_1,
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g1 IS NULL OR TRIM(CAST(g.g1 AS TEXT)) = ''
          )
        )
        AND NOT (
          g.g1 IN ('reached', 'voicemail', 'no-answer')
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_1,
  COALESCE(SUM(CASE WHEN g.g0 = 'call' THEN g.n END), 0) AS checked_2,
  COALESCE(
    SUM(
      CASE
        WHEN g.g0 = 'call'
        AND (
          (
            g.g1 IS NULL OR TRIM(CAST(g.g1 AS TEXT)) = ''
          ) OR g.a2
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_2,
  COALESCE(SUM(CASE WHEN g.g0 IN ('sms', 'email') THEN g.n END), 0) AS checked_3,
  COALESCE(
    SUM(
      CASE
        WHEN g.g0 IN ('sms', 'email') AND NOT (
          COALESCE(g.g3, FALSE) = TRUE
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_3,
  COALESCE(SUM(CASE WHEN 1 = 1 THEN g.n END), 0) AS checked_4,
  COALESCE(SUM(CASE WHEN 1 = 1 AND COALESCE(g.g4, FALSE) = TRUE THEN g.n END), 0) AS violations_4,
  COALESCE(SUM(g.n), 0) AS n_rows
FROM g AS g;

-- stage_history: allowed-values.from-stage, allowed-values.to-stage, transition-allowed
WITH g AS (
  SELECT
    t."from_stage" AS g0,
    t."to_stage" AS g1,
    COUNT(*) AS n
  FROM stage_history AS t
  GROUP BY
    t."from_stage",
    t."to_stage"
)
SELECT
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g0 IS NULL OR TRIM(CAST(g.g0 AS TEXT)) = ''
          )
        )
        THEN g.n
      END
    ),
    0
  ) AS checked_0,
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g0 IS NULL OR TRIM(CAST(g.g0 AS TEXT)) = ''
          )
        )
        AND NOT (
          g.g0 IN ('new', 'qualified', 'scheduled', 'in-treatment', 'Closed - Lost')
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_0,
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g1 IS NULL OR TRIM(CAST(g.g1 AS TEXT)) = ''
          )
        )
        THEN g.n
      END
    ),
    0
  ) AS checked_1,
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g1 IS NULL OR TRIM(CAST(g.g1 AS TEXT)) = ''
          )
        )
        AND NOT (
          g.g1 IN ('new', 'qualified', 'scheduled', 'in-treatment', 'Closed - Lost')
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_1,
  COALESCE(SUM(CASE WHEN 1 = 1 THEN g.n END), 0) AS checked_2,
  COALESCE(
    SUM(
      CASE
        WHEN 1 = 1
        AND NOT (
          COALESCE(
            (
              (
                g.g0 = 'new' AND g.g1 = 'qualified'
              )
              OR (
                g.g0 = 'new' AND g.g1 = 'Closed - Lost'
              )
              OR (
                g.g0 = 'qualified' AND g.g1 = 'scheduled'
              )
              OR (
                g.g0 = 'qualified' AND g.g1 = 'Closed - Lost'
              )
              OR (
                g.g0 = 'scheduled' AND g.g1 = 'in-treatment'
              )
              OR (
                g.g0 = 'scheduled' AND g.g1 = 'Closed - Lost'
              )
              OR (
                (
                  g.g0 IS NULL OR TRIM(CAST(g.g0 AS TEXT)) = ''
                ) AND g.g1 IN ('new')
              )
            ),
            FALSE
          ) = TRUE
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_2,
  COALESCE(SUM(g.n), 0) AS n_rows
FROM g AS g;

-- appointments: allowed-values.appointment-stage
WITH g AS (
  SELECT
    t."appointment_stage" AS g0,
    COUNT(*) AS n
  FROM appointments AS t
  GROUP BY
    t."appointment_stage"
)
SELECT
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g0 IS NULL OR TRIM(CAST(g.g0 AS TEXT)) = ''
          )
        )
        THEN g.n
      END
    ),
    0
  ) AS checked_0,
  COALESCE(
    SUM(
      CASE
        WHEN NOT (
          (
            g.g0 IS NULL OR TRIM(CAST(g.g0 AS TEXT)) = ''
          )
        )
        AND NOT (
          g.g0 IN ('booked', 'completed')
        )
        THEN g.n
      END
    ),
    0
  ) AS violations_0,
  COALESCE(SUM(g.n), 0) AS n_rows
FROM g AS g;

