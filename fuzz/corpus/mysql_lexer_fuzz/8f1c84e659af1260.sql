SELECT 1 /*!80000 , 2 */ /*!99999 x */ -- c
# d
; DELETE/**/FROM t WHERE 1