-- Mark the connection as prepared for $scope.
-- makes: _prepared
CREATE OR REPLACE TEMP TABLE _prepared AS SELECT CAST($scope AS VARCHAR) AS scope
