-- Mark the connection as prepared for $scope.
CREATE OR REPLACE TEMP TABLE _prepared AS SELECT CAST($scope AS VARCHAR) AS scope
