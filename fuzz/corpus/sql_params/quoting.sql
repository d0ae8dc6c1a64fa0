select ':no', "x:y", $$ :no $$, $t$ :no $t$, E'\' :no', x::date, :yes -- :no
/* :no /* :no */ */