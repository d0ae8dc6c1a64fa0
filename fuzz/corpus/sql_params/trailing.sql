select 1; -- end
